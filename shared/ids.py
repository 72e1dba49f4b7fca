"""Ids and timestamps as stored: UUIDv7 strings and UTC datetimes at BSON's millisecond precision."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, truncated to the millisecond that BSON dates keep."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


_last_ms = 0
_sequence = 0


def new_id() -> str:
    """A UUIDv7 (RFC 9562): time-ordered, so ids made by one container sort in creation order.

    Within one millisecond the 12-bit ``rand_a`` field counts up; that ordering is what
    breaks ties between items with equal timestamps in a page.
    """
    global _last_ms, _sequence
    now_ms = time.time_ns() // 1_000_000
    if now_ms > _last_ms:
        _last_ms, _sequence = now_ms, 0
    elif _sequence < 0xFFF:
        _sequence += 1
    else:
        _last_ms, _sequence = _last_ms + 1, 0
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (_last_ms << 80) | (0x7 << 76) | (_sequence << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))
