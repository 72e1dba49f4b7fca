"""The ``login_attempts`` collection: failed-login counts in fixed windows."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.data.client import get_database, translated
from shared.errors import ServiceUnavailable
from shared.ids import utcnow


class LoginAttemptRepository:
    """Failed-login counts per (normalised) email, each in a window that ends at ``expires_at``.

    A TTL index removes a document once its window has passed; until the TTL monitor runs (about
    once a minute) an expired document is treated as absent.
    """

    _RACE_RETRIES = 5  # rounds of a race with a concurrent first attempt before giving up

    def __init__(self) -> None:
        self.collection = get_database().login_attempts

    @translated
    def reserve(self, email: str, *, window: timedelta, now: datetime | None = None) -> tuple[int, datetime]:
        """Count one more attempt for ``email``, atomically: the count including this one, and when the
        window ends. Done before the password is checked, so concurrent attempts each get their own number."""
        now = now or utcnow()
        for _ in range(self._RACE_RETRIES):
            doc = self.collection.find_one_and_update(
                {"_id": email, "expires_at": {"$gt": now}, "count": {"$type": "number"}},
                {"$inc": {"count": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None:
                return int(doc["count"]), _as_utc(doc["expires_at"])
            fresh = {"count": 1, "expires_at": now + window}
            try:
                self.collection.insert_one({"_id": email, **fresh})
                return 1, now + window
            except DuplicateKeyError:
                # A concurrent first attempt (then the $inc above wins next time round), an expired
                # window the TTL monitor has not removed yet, or a document this module did not write
                # (no numeric count, no date): start a new window in its place.
                stale = [{"expires_at": {"$not": {"$gt": now}}}, {"count": {"$not": {"$type": "number"}}}]
                replaced = self.collection.replace_one({"_id": email, "$or": stale}, fresh)
                if replaced.modified_count == 1:
                    return 1, now + window
        raise ServiceUnavailable("Too much contention on login attempts")

    @translated
    def clear(self, email: str) -> None:
        """Forget the attempts of ``email`` (after a login that proved the password)."""
        self.collection.delete_one({"_id": email})


def seconds_until(when: datetime, *, now: datetime | None = None) -> int:
    """Whole seconds (rounded up, at least 1) from ``now`` until ``when``: a ``Retry-After`` value."""
    return max(1, math.ceil((when - (now or utcnow())).total_seconds()))


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
