"""Which documents are whose: the parts of a query that keep a deletion to what is provably its to delete.

The database may hold documents this API did not write (the seed's app wrote an ObjectId ``_id``; an
older version or an operator may have written anything), so a query that deletes says exactly which
documents it means: only those this API wrote itself (``WRITTEN_HERE``), or only those one user owns
alone (``owned_by``).
"""

from __future__ import annotations

from typing import Any

SEED_ID = "seed_object_id"
"""The field of a document ``make migrate-seed`` converted from the seed's: the ObjectId ``_id`` of the seed
document it came from (``shared.data.migrate_seed``)."""

WRITTEN_HERE: dict[str, Any] = {"_id": {"$type": "string"}, SEED_ID: {"$exists": False}}
"""The part of a query that matches only documents this API wrote itself: a string ``_id`` (the seed's is an
ObjectId) and no ``seed_object_id`` (the migration's conversions of the seed's). Copy it into a query
(``{**WRITTEN_HERE, ...}``), never change it."""


def owned_by(*user_ids: str) -> dict[str, Any]:
    """The part of a query that matches the documents whose ``user_id`` is one of ``user_ids`` itself.
    MongoDB also matches a list by its elements: a ``user_id`` that lists an owner among others (which
    this API never writes) is no one's alone, so it is left out."""
    return {"user_id": {"$in": list(user_ids), "$not": {"$type": "array"}}}
