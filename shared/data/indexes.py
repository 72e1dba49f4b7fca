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

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, DESCENDING

if TYPE_CHECKING:
    from pymongo.database import Database


@dataclass(frozen=True)
class Index:
    """One index: its name, its keys in order, and options such as ``unique`` or ``expireAfterSeconds``."""

    name: str
    keys: tuple[tuple[str, int], ...]
    options: dict[str, Any] = field(default_factory=dict)


# Collection -> its indexes. Names are fixed, so a run against a database that has them changes nothing.
INDEXES: dict[str, tuple[Index, ...]] = {
    "users": (Index("email_unique", (("email", ASCENDING),), {"unique": True}),),
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
    # expiration, and until then the persistence layer treats an expired record as absent.
    "idempotency": (Index("expires", (("expiration", ASCENDING),), {"expireAfterSeconds": 0}),),  # TTL
}


def ensure_indexes(db: Database[Any]) -> list[str]:
    """Create every index (``createIndex`` leaves one that exists as it is); idempotent.

    Returns the indexes' names, as ``<collection>.<index>``. Raises the driver's errors (an
    unreachable server, a user without the createIndex action, stored documents that break a
    unique index): callers decide what they become.
    """
    names = []
    for collection, indexes in INDEXES.items():
        for index in indexes:
            db[collection].create_index(list(index.keys), name=index.name, **index.options)
            names.append(f"{collection}.{index.name}")
    return names


def main() -> int:
    """``make indexes``: create the indexes in MONGODB_DB_NAME (default as the functions') at MONGODB_URI."""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    from shared.config import DEFAULT_DB_NAME

    uri = os.environ.get("MONGODB_URI", "").strip()
    if not uri:
        sys.stderr.write("make indexes: set MONGODB_URI to the database to create the indexes on\n")
        return 2
    name = os.environ.get("MONGODB_DB_NAME", "").strip() or DEFAULT_DB_NAME
    client: MongoClient[dict[str, Any]] = MongoClient(
        uri, appname="prompt-api-indexes", serverSelectionTimeoutMS=10_000
    )
    try:
        names = ensure_indexes(client[name])
    except PyMongoError as e:
        sys.stderr.write(f"make indexes: {type(e).__name__}: {e}\n")
        return 1
    finally:
        client.close()
    sys.stdout.write(f"{name}: {', '.join(names)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
