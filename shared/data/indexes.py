"""The indexes the queries rely on, defined here and nowhere else, created once per deploy.

The functions never create them: a new container's first request runs no index command, and the
application's database user needs no index rights. Instead:

- in AWS, the stack's ``Custom::MongoIndexes`` resource (``functions/indexes``) runs
  ``ensure_indexes`` on every create and update of the stack;
- on any other MongoDB (a developer's Atlas cluster, CI), ``make indexes`` runs
  ``python -m shared.data.indexes`` against MONGODB_URI;
- the embedded stores (the local API's, the tests') create them when they start.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import OperationFailure

if TYPE_CHECKING:
    from pymongo.collection import Collection
    from pymongo.database import Database


@dataclass(frozen=True)
class Index:
    """One index: its name, its keys in order, and options such as ``unique`` or ``expireAfterSeconds``."""

    name: str
    keys: tuple[tuple[str, int], ...]
    options: dict[str, Any] = field(default_factory=dict)


# Collection -> its indexes. Names are fixed, so a run against a database that has them changes nothing.
INDEXES: dict[str, tuple[Index, ...]] = {
    "users": (
        Index("email_unique", (("email", ASCENDING),), {"unique": True}),
        # Accounts being deleted (tombstones), for the sweep that finishes interrupted deletions.
        Index("deleting", (("deleted_at", ASCENDING),), {"sparse": True}),
    ),
    "prompts": (Index("user_newest_first", (("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING))),),
    "status_checks": (Index("newest_first", (("timestamp", DESCENDING), ("_id", DESCENDING))),),
    "sessions": (
        Index("refresh_hash_unique", (("refresh_hash", ASCENDING),), {"unique": True}),
        Index("spent_hashes", (("spent_hashes", ASCENDING),)),  # multikey
        Index("user", (("user_id", ASCENDING),)),
        Index("expires", (("expires_at", ASCENDING),), {"expireAfterSeconds": 0}),  # TTL
    ),
    "login_attempts": (Index("expires", (("expires_at", ASCENDING),), {"expireAfterSeconds": 0}),),  # TTL
    "reset_tokens": (
        Index("user", (("user_id", ASCENDING), ("created_at", ASCENDING))),
        Index("expires", (("expires_at", ASCENDING),), {"expireAfterSeconds": 0}),  # TTL
    ),
    "reset_requests": (Index("expires", (("expires_at", ASCENDING),), {"expireAfterSeconds": 0}),),  # TTL
    # Idempotency records: ``_id`` is the hashed key; a record is gone within a minute or so of its
    # expiration, and until then a claim treats an expired record as absent. ``user``: removed with their user.
    "idempotency": (
        Index("expires", (("expiration", ASCENDING),), {"expireAfterSeconds": 0}),  # TTL
        Index("user", (("user_id", ASCENDING),)),
    ),
}


INDEX_OPTIONS_CONFLICT = 85  # MongoDB: an equivalent index under another name, or other options under this one
INDEX_KEY_SPECS_CONFLICT = 86  # MongoDB: an index of this name with other keys
_NOT_OPTIONS = frozenset({"v", "key", "name", "ns", "background"})  # listIndexes fields that are no option


class IndexConflict(Exception):
    """Raised when an index that is not ours stands in the way of one of ours; the message says what to run."""


CREATED, PRESENT, REUSED, REPLACED = "created", "present", "reused", "replaced"


@dataclass(frozen=True)
class EnsuredIndex:
    """What ``ensure_indexes`` found or did about one index of ``INDEXES``."""

    collection: str
    name: str  # ours
    outcome: str  # CREATED, PRESENT, REUSED or REPLACED
    found_as: str  # its name in the database: ours, or for REUSED the equivalent index's

    def __str__(self) -> str:
        label = f"{self.collection}.{self.name}"
        if self.outcome == REUSED:
            return f"{label} (as {self.found_as})"
        return f"{label} (replaced)" if self.outcome == REPLACED else label


Spec = tuple[tuple[tuple[str, Any], ...], dict[str, Any]]


def _specs(collection: Collection[Any]) -> dict[str, Spec]:
    """The collection's indexes by name: keys and options as ``listIndexes`` says, defaults left out."""
    specs: dict[str, Spec] = {}
    for name, info in collection.index_information().items():
        keys = tuple((str(field), direction) for field, direction in info["key"])
        options = {k: v for k, v in info.items() if k not in _NOT_OPTIONS and v is not False and v is not None}
        specs[name] = (keys, options)
    return specs


def _found(where: str, index: Index, specs: dict[str, Spec]) -> EnsuredIndex | None:
    """PRESENT or REUSED when ``specs`` hold ``index``'s definition, under our name or another."""
    wanted: Spec = (index.keys, dict(index.options))
    if specs.get(index.name) == wanted:
        return EnsuredIndex(where, index.name, PRESENT, index.name)
    equivalent = sorted(name for name, spec in specs.items() if spec == wanted)
    return EnsuredIndex(where, index.name, REUSED, equivalent[0]) if equivalent else None


def _ensure(collection: Collection[Any], index: Index) -> EnsuredIndex:
    where = collection.name
    specs = _specs(collection)
    found = _found(where, index, specs)
    if found is not None:
        return found
    outcome = CREATED
    if index.name in specs:  # our name, another definition: another version's (a failed deploy, its rollback)
        collection.drop_index(index.name)
        outcome = REPLACED
    try:
        collection.create_index(list(index.keys), name=index.name, **index.options)
    except OperationFailure as e:
        if e.code not in (INDEX_OPTIONS_CONFLICT, INDEX_KEY_SPECS_CONFLICT):
            raise
        # A concurrent run (another deploy, make indexes) got there between our read and this create,
        # or an index of another name has our keys and other options the server does not tell apart
        # (expireAfterSeconds, say): read again, once, and decide from that.
        specs = _specs(collection)
        found = _found(where, index, specs)
        if found is not None:
            return found
        others = sorted(name for name, (keys, _) in specs.items() if keys == index.keys and name != index.name)
        if others:
            raise IndexConflict(
                f"{where}.{others[0]} has the keys of our index {index.name} but other options (ours: "
                f'{index.options or "none"}): give it ours or drop it (db.{where}.dropIndex("{others[0]}")), '
                "then create the indexes again (make indexes, or deploy)"
            ) from e
        details = e.details or {}
        raise IndexConflict(
            f"MongoDB refused {where}.{index.name} ({details.get('codeName') or e.code}: "
            f"{details.get('errmsg') or e}); compare db.{where}.getIndexes() with shared/data/indexes.py"
        ) from e
    return EnsuredIndex(where, index.name, outcome, index.name)


def ensure_indexes(db: Database[Any]) -> list[EnsuredIndex]:
    """Make every index of ``INDEXES`` exist; idempotent. What it found or did, index by index.

    For each index, what the collection already has decides (``listIndexes`` first: a server refuses
    a ``createIndexes`` only where an index that is not ours stands in the way):

    - our name with our definition: nothing to do (PRESENT);
    - our keys and options under another name, an ``email_1`` made by hand or by the seed's app: that
      index serves our queries and a unique one already holds the rule, so it is used as it is and
      ours is not created (REUSED; a server would refuse it, IndexOptionsConflict, code 85);
    - our name with another definition (keys or options): a deploy of another version made it, such
      as a failed deploy, then its rollback. It is dropped and created as defined here (REPLACED):
      the names are ours, so only a version of this code made it, and the version that runs is the one
      whose queries must be served. Stopping instead would also stop the rollback of that deploy,
      which runs this with the older definitions, and leave the stack in UPDATE_ROLLBACK_FAILED. For a
      unique index, writes in the moment between drop and create are not checked, and if stored
      documents break the new definition the create fails (the deploy stops, with the server's reason);
    - otherwise ours is created. Beside an index of our keys with other options under another name,
      that is for the server to allow: since MongoDB 5.0 ``unique`` and ``sparse`` tell two indexes of
      the same keys apart (a non-unique ``email_1`` stays, ours is added); other options do not
      (``expireAfterSeconds``), and it refuses with IndexOptionsConflict. That index is not ours to
      drop: IndexConflict, saying which index it is and what to run.

    On IndexOptionsConflict or IndexKeySpecsConflict (codes 85, 86: that case, or a concurrent run
    that got there first) the indexes are read again and decide once more; else IndexConflict. Raises the
    driver's other errors (an unreachable server, a user without the createIndex action, stored
    documents that break a unique index): callers decide what they become.
    """
    return [_ensure(db[collection], index) for collection, indexes in INDEXES.items() for index in indexes]


def main() -> int:
    """``make indexes``: create the indexes in the database settings' database (MONGODB_DB_NAME, default as
    the functions') at their URI (MONGODB_URI, or the secret at MONGODB_URI_SECRET_ARN). Exit status 0 when
    they exist, 1 when the database is unreachable, refuses or stands in the way, 2 for a bad setting."""
    from pymongo.errors import PyMongoError

    from shared.data.operator import EXIT_UNREACHABLE, EXIT_USAGE, Unreachable, UsageError, operator_database

    try:
        with operator_database("make indexes", purpose="the database to create the indexes on") as database:
            ensured = ensure_indexes(database)
    except UsageError as e:
        sys.stderr.write(f"{e}\n")
        return EXIT_USAGE
    except Unreachable as e:
        sys.stderr.write(f"{e}\n")
        return EXIT_UNREACHABLE
    except IndexConflict as e:
        sys.stderr.write(f"make indexes: {e}\n")
        return 1
    except PyMongoError as e:
        sys.stderr.write(f"make indexes: {type(e).__name__}: {e}\n")
        return 1
    sys.stdout.write(f"{database.name}: {', '.join(map(str, ensured))}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
