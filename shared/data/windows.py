"""Counts in fixed windows: how many times something happened for a key since its window opened.

The throttles keep one collection each (``login_attempts``, ``reset_requests``); a document is
``{_id: key, count, expires_at}``, and a TTL index on ``expires_at`` removes it once its window has passed.
Until the TTL monitor runs (about once a minute) an expired document is treated as absent.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.data.client import get_database, translated
from shared.errors import ServiceUnavailable, TooManyRequests
from shared.ids import utcnow
from shared.metrics import Metric, count


class WindowCounts:
    """Counts per key in ``collection``, each in a window that ends at ``expires_at``."""

    _RACE_RETRIES = 5  # rounds of a race with a concurrent first count before giving up

    def __init__(self, collection: str) -> None:
        self.collection = get_database()[collection]

    @translated
    def reserve(self, key: str, *, window: timedelta, now: datetime | None = None) -> tuple[int, datetime]:
        """Count one more for ``key``, atomically: the count including this one, and when the window
        ends. Counted before the work it limits, so concurrent requests each get their own number."""
        now = now or utcnow()
        for _ in range(self._RACE_RETRIES):
            doc = self.collection.find_one_and_update(
                {"_id": key, "expires_at": {"$gt": now}, "count": {"$type": "number"}},
                {"$inc": {"count": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None:
                return int(doc["count"]), _as_utc(doc["expires_at"])
            fresh = {"count": 1, "expires_at": now + window}
            try:
                self.collection.insert_one({"_id": key, **fresh})
                return 1, now + window
            except DuplicateKeyError:
                # A concurrent first count (then the $inc above wins next time round), an expired window
                # the TTL monitor has not removed yet, or a document this module did not write (no
                # numeric count, no date): start a new window in its place.
                stale = [{"expires_at": {"$not": {"$gt": now}}}, {"count": {"$not": {"$type": "number"}}}]
                replaced = self.collection.replace_one({"_id": key, "$or": stale}, fresh)
                if replaced.modified_count == 1:
                    return 1, now + window
        raise ServiceUnavailable(f"Too much contention on {self.collection.name}")

    def admit(self, key: str, *, limit: int, window: timedelta, detail: str, throttled: Metric) -> None:
        """Count one more for ``key`` (``reserve``); past ``limit`` within its window, ``throttled`` is
        counted and TooManyRequests raised with ``detail`` and the seconds until the window ends."""
        counted, ends = self.reserve(key, window=window)
        if counted > limit:
            count(throttled)
            raise TooManyRequests(detail, retry_after=seconds_until(ends))

    @translated
    def release(self, key: str) -> None:
        """Take back one count of ``key`` (what was reserved turned out not to count)."""
        self.collection.update_one({"_id": key, "count": {"$gt": 0}}, {"$inc": {"count": -1}})

    @translated
    def clear(self, key: str) -> None:
        """Forget the counts of ``key``."""
        self.collection.delete_one({"_id": key})


def seconds_until(when: datetime, *, now: datetime | None = None) -> int:
    """Whole seconds (rounded up, at least 1) from ``now`` until ``when``: a ``Retry-After`` value."""
    return max(1, math.ceil((when - (now or utcnow())).total_seconds()))


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
