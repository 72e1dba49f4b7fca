"""Access tokens (JWT, HS256 only) and opaque refresh tokens.

Kept apart from the password code (bcrypt) and the request models, so the authorizer, which
only checks tokens and sessions, imports neither.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from shared.errors import Unauthorized

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "iat", "exp", "iss", "aud", "sid", "jti"]
REFRESH_TOKEN_BYTES = 32  # 256 bits of randomness


def create_access_token(
    *,
    subject: str,
    session_id: str,
    secret: str,
    issuer: str,
    audience: str,
    expires_minutes: int,
    now: datetime | None = None,
) -> str:
    """A signed token for ``subject`` (the user id) in session ``session_id``, valid for ``expires_minutes``."""
    issued = now or datetime.now(UTC)
    claims = {
        "sub": subject,
        "sid": session_id,
        "jti": uuid.uuid4().hex,
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


def new_refresh_token() -> str:
    """An opaque, random refresh token (256 bits, URL-safe); only its hash is ever stored."""
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def hash_refresh_token(token: str) -> str:
    """The SHA-256 hex digest under which a refresh token is stored and looked up.

    A plain hash is enough: the token is 256 random bits, so it cannot be guessed from its hash.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Not authenticated")
    return token.strip()
