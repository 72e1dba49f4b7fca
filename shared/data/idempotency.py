"""The ``idempotency`` collection: one record per (scope, user, ``Idempotency-Key``) for 24 hours.

A record is claimed before its write runs and completed with the write's response after it:

``{_id: SHA-256 of (scope, user, key), user_id, body_hash, first_used, expiration (TTL, first_used +
24 h), response (once completed)}``

The record never decides alone whether the write happened: the write itself is keyed (its document's
id is derived from the claim's ``first_used``, see ``shared.prompts.create_prompt``), so a claim whose
first request died halfway, or whose completion was lost, is simply claimed again and the write finds
what the first one stored. So there is no "in progress" state to wait out and no 409. The response is
kept for replays and removed with its user (``user_id``; ``shared.accounts.owned_data``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from shared.data.client import Document, get_database, retry_once, translated
from shared.data.ownership import owned_by
from shared.errors import ServiceUnavailable
from shared.ids import epoch_ms, utcnow

COLLECTION = "idempotency"
EXPIRES_AFTER = timedelta(hours=24)


class KeyReused(Exception):
    """Raised when a key is claimed again within its 24 hours with another body."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A key's record: when the key was first used (in ms, what keyed ids derive from), and the first
    response when the first request completed."""

    first_used_ms: int
    response: dict[str, Any] | None


def body_hash(body: Any) -> str:
    """The SHA-256 of a request body's canonical JSON: the record keeps it, never the body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_id(scope: str, user_id: str, key: str) -> str:
    return hashlib.sha256("\x00".join((scope, user_id, key)).encode()).hexdigest()


class IdempotencyRecords:
    def __init__(self) -> None:
        self.collection = get_database()[COLLECTION]

    @translated
    def claim(self, *, scope: str, user_id: str, key: str, body: str) -> Claim:
        """The live record of ``key`` (inserted now if there is none, or replacing one past its 24 hours).

        KeyReused when the live record was claimed with another ``body`` (a ``body_hash``). Each step is
        one conditional single-document write, so a retry or a concurrent claim lands on the same record.
        """
        now = utcnow()
        doc: Document = {
            "_id": record_id(scope, user_id, key),
            "user_id": user_id,
            "body_hash": body,
            "first_used": now,
            "expiration": now + EXPIRES_AFTER,
        }
        for _ in range(3):  # a concurrent claim may remove or replace the record between two steps
            try:
                self.collection.insert_one(doc)
                return Claim(epoch_ms(now), None)
            except DuplicateKeyError:
                pass
            existing = self.collection.find_one({"_id": doc["_id"]})
            if existing is not None and "first_used" not in existing:
                claim = self._legacy(existing, doc, now)
                if claim is not None:
                    return claim
                continue
            if existing is not None and existing["expiration"] > now:
                if existing["body_hash"] != body:
                    raise KeyReused()
                return Claim(epoch_ms(existing["first_used"]), existing.get("response"))
            # Past its 24 hours (the TTL monitor has not removed it yet): the key starts afresh.
            replaced = self.collection.replace_one({"_id": doc["_id"], "expiration": {"$lte": now}}, doc)
            if replaced.matched_count == 1:
                return Claim(epoch_ms(now), None)
        raise ServiceUnavailable("Too much contention on an idempotency key")

    def _legacy(self, existing: Document, doc: Document, now: datetime) -> Claim | None:
        """A record Powertools' idempotency utility wrote before this layout (for 24 hours after the deploy
        that brought it): a completed one replays its response (its body hash cannot be compared); any
        other is claimed afresh (None: claim again)."""
        if existing.get("status") == "COMPLETED" and existing.get("data") and existing["expiration"] > now:
            return Claim(0, json.loads(existing["data"]))
        self.collection.replace_one({"_id": doc["_id"], "first_used": {"$exists": False}}, doc)
        return None

    @translated
    def complete(self, *, scope: str, user_id: str, key: str, response: dict[str, Any]) -> None:
        """Keep the first response for replays (a no-op once kept: the first one stays)."""
        self.collection.update_one(
            {"_id": record_id(scope, user_id, key), "response": None}, {"$set": {"response": response}}
        )

    @translated
    def delete_all(self, user_id: str) -> int:
        """Remove every record of ``user_id`` (their responses hold their prompts' text); how many."""
        return retry_once(lambda: self.collection.delete_many(owned_by(user_id))).deleted_count
