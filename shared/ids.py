"""Ids and timestamps as stored: UUID strings (v7; v8 when derived) and UTC datetimes to the millisecond (BSON)."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, truncated to the millisecond that BSON dates keep."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


def epoch_ms(value: datetime) -> int:
    """``value`` in whole milliseconds since the epoch: the precision BSON dates keep, and what ids
    derived from a moment (``derived_id``) are made of."""
    return int(value.timestamp() * 1000)


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


def derived_id(*parts: str) -> str:
    """A UUIDv8 (RFC 9562, section 5.8) derived from ``parts``: the first 122 bits of their SHA-256.

    The same parts give the same id every time, so an insert under it is refused (a duplicate key)
    the second time: what makes a keyed write happen at most once. Parts are joined unambiguously
    (NUL cannot occur in them: ids, printable keys, integers).
    """
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    value = int.from_bytes(digest[:16], "big")
    value &= ~(0xF << 76) & ~(0b11 << 62)  # clear the version and variant fields
    value |= (0x8 << 76) | (0b10 << 62)
    return str(uuid.UUID(int=value))
