"""The scheduled sweep: finish interrupted account deletions and remove orphans, a bounded batch per run.

A deletion is interrupted when its function stopped or failed after making the account a tombstone
(``shared.accounts.delete_account``): its tombstone stays until everything is removed. Only tombstones as
this API writes them are finished (a string ``_id``, a date in ``deleted_at``).

An orphan is a document this API wrote that no user owns: a write that raced with a deletion and whose own
clean-up failed, or data left by older code. Precisely, a document of a collection in
``shared.accounts.owned_data.OWNED`` is removed as an orphan only when

- this API wrote it (``shared.data.ownership.WRITTEN_HERE``): its ``_id`` is a string (the seed's app wrote an
  ObjectId) and it has no ``seed_object_id`` (``make migrate-seed`` converted it from the seed's: whether
  its user is one here is the operator's question, which the migration's report asks);
- its ``user_id`` is a string (a list, an object, a number, null or nothing names no one the sweep can
  check); and
- no user document names that owner in any form the seed or this API writes: neither a user whose ``_id``
  it is (live or tombstone, converted or not) nor a user in the seed's shape (not a string ``_id``)
  whose ``id`` it is (a seed user not converted yet, or left by the migration as a conflict or invalid).

Anything else is never the sweep's to delete, whatever its owner: it stays as it is. A document the sweep
cannot read (an owner that is not a string, a tombstone-looking user whose ``_id`` is not a string or whose
``deleted_at`` is not a date) is skipped, with one warning per run and collection that names the collection
and the field, never a value, and the run goes on. Every step is idempotent, so overlapping or repeated
runs are harmless.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.accounts.account_removal import finish_deletion
from shared.accounts.owned_data import OWNED
from shared.accounts.users import UserRepository
from shared.data.client import get_database, retry_once, translated
from shared.data.ownership import WRITTEN_HERE, owned_by
from shared.ids import utcnow
from shared.metrics import Metric, count

logger = logging.getLogger(__name__)

TOMBSTONE_MIN_AGE = timedelta(minutes=1)
"""A younger tombstone is probably a deletion still running (or about to be retried): left to it."""
DELETIONS_PER_RUN = 100
OWNERS_PER_RUN = 500
"""How many distinct owners of each collection a run checks, from a random point of the id space on
(wrapping around): every owner when there are fewer, otherwise a different slice each run."""
_OWNER_NOT_A_STRING = "user_id: not a string"


@dataclass(frozen=True, slots=True)
class SweepResult:
    deletions_completed: int
    orphans_removed: int


def sweep(*, now: datetime | None = None, min_age: timedelta = TOMBSTONE_MIN_AGE) -> SweepResult:
    """One run: finish up to DELETIONS_PER_RUN deletions whose tombstone is older than ``min_age``, then
    remove the orphans (see the module's docstring) of up to OWNERS_PER_RUN owners per collection."""
    users = UserRepository()
    completed = 0
    for user_id in users.deleting_since((now or utcnow()) - min_age, limit=DELETIONS_PER_RUN):
        completed += finish_deletion(user_id)
    _say_skipped(users.collection.name, users.unreadable_tombstones())
    removed = 0
    start = str(uuid.UUID(bytes=secrets.token_bytes(16)))
    for owned in OWNED:
        if not owned.by_user_id:
            continue
        owners, unreadable = _owners(owned.name, start=start, limit=OWNERS_PER_RUN)
        orphans = sorted(set(owners) - users.existing(owners))
        if orphans:
            removed += _remove_orphans(owned.name, orphans)
        _say_skipped(owned.name, [_OWNER_NOT_A_STRING] if unreadable else [])
    count(Metric.DELETIONS_COMPLETED, completed)
    count(Metric.ORPHANS_REMOVED, removed)
    return SweepResult(deletions_completed=completed, orphans_removed=removed)


def _say_skipped(collection: str, problems: list[str]) -> None:
    if problems:
        logger.warning(
            "The sweep skipped %s documents it cannot read (%s); they are left as they are",
            collection,
            ", ".join(problems),
        )


@translated
def _owners(collection: str, *, start: str, limit: int) -> tuple[list[str], bool]:
    """Up to ``limit`` distinct ``user_id`` strings of the documents of ``collection`` this API wrote (the
    only ones the sweep may remove, so owners of the seed's documents alone take no place in a run's
    slice), from ``start`` on, wrapping around; and whether any of those documents' ``user_id`` is not a
    string (a list of strings among them, which the range matches by its elements, or anything else, which
    one more query finds)."""
    owners: list[str] = []
    unreadable = False
    for match in ({"$gte": start}, {"$lt": start}):
        pipeline: list[dict[str, Any]] = [
            {"$match": {**WRITTEN_HERE, "user_id": match}},
            {"$group": {"_id": "$user_id"}},
            {"$sort": {"_id": 1}},
            {"$limit": limit - len(owners)},
        ]
        for doc in get_database()[collection].aggregate(pipeline):
            if isinstance(doc["_id"], str):
                owners.append(doc["_id"])
            else:
                unreadable = True
        if len(owners) >= limit:
            break
    if not unreadable:
        odd = {**WRITTEN_HERE, "user_id": {"$not": {"$type": "string"}}}
        unreadable = get_database()[collection].find_one(odd, {"_id": True}) is not None
    return owners, unreadable


@translated
def _remove_orphans(collection: str, owners: list[str]) -> int:
    """Remove the documents of ``collection`` this API wrote whose ``user_id`` is one of ``owners`` (owners
    no user document names); how many. A document naming several owners in a list is not one of them."""
    query = {**WRITTEN_HERE, **owned_by(*owners)}
    return retry_once(lambda: get_database()[collection].delete_many(query)).deleted_count
