"""Password hashing (bcrypt) and access tokens (JWT, HS256 only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import bcrypt
import jwt

from shared.models import BCRYPT_MAX_BYTES

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "iat", "exp", "iss", "aud"]


def hash_password(password: str, *, rounds: int) -> str:
    """bcrypt hash of ``password``; raises ValueError past bcrypt's 72-byte limit."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


@cache
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"dummy password, never matches", bcrypt.gensalt(rounds=rounds))


def verify_password(password: str, hashed: str | None, *, rounds: int) -> bool:
    """True when ``password`` matches ``hashed``.

    With no hash (unknown user) or an over-long password it still spends one bcrypt check
    of the same cost, so the answer takes as long as a wrong password does.
    """
    encoded = password.encode()
    if hashed is None or len(encoded) > BCRYPT_MAX_BYTES:
        bcrypt.checkpw(b"dummy", _dummy_hash(rounds))
        return False
    return bcrypt.checkpw(encoded, hashed.encode())


def create_access_token(
    *, subject: str, secret: str, issuer: str, audience: str, expires_minutes: int, now: datetime | None = None
) -> str:
    """A signed token for ``subject`` (the user id), valid for ``expires_minutes``."""
    issued = now or datetime.now(UTC)
    claims = {
        "sub": subject,
        "iat": issued,
        "exp": issued + timedelta(minutes=expires_minutes),
        "iss": issuer,
        "aud": audience,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, *, secret: str, issuer: str, audience: str) -> dict[str, Any]:
    """The claims of a valid token; raises ``jwt.InvalidTokenError`` for any invalid one."""
    claims: dict[str, Any] = jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        issuer=issuer,
        audience=audience,
        options={"require": REQUIRED_CLAIMS},
    )
    return claims
