"""Password hashing (bcrypt). Tokens are in ``shared.accounts.access_tokens`` and ``shared.accounts.refresh_tokens``."""

from __future__ import annotations

import re
from functools import cache

import bcrypt

from shared.accounts.models import BCRYPT_MAX_BYTES

_COST = re.compile(r"^\$2[abxy]?\$(\d{2})\$")


def hash_password(password: str, *, rounds: int) -> str:
    """bcrypt hash of ``password``; raises ValueError past bcrypt's 72-byte limit."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


@cache
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"dummy password, never matches", bcrypt.gensalt(rounds=rounds))


def verify_password(password: str, hashed: str | None, *, rounds: int) -> bool:
    """True when ``password`` matches ``hashed``.

    With no hash (unknown user), a stored value that is not a bcrypt hash, or an over-long password
    it still spends one bcrypt check of the same cost, so the answer takes as long as a wrong
    password does, and is never an error.
    """
    encoded = password.encode()
    if hashed is not None and len(encoded) <= BCRYPT_MAX_BYTES and hash_cost(hashed) is not None:
        try:
            return bcrypt.checkpw(encoded, hashed.encode())
        except ValueError:  # looks like bcrypt but is not (a damaged or foreign hash): no match
            return False
    bcrypt.checkpw(b"dummy", _dummy_hash(rounds))
    return False


def hash_cost(hashed: str) -> int | None:
    """The bcrypt cost of ``hashed`` (the ``NN`` of ``$2b$NN$...``), None if it is not a bcrypt hash."""
    match = _COST.match(hashed)
    return int(match.group(1)) if match else None


def needs_rehash(hashed: str, *, rounds: int) -> bool:
    """Whether ``hashed`` was made at another cost than ``rounds`` (so a login should re-hash it)."""
    return hash_cost(hashed) != rounds
