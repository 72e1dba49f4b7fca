"""Access tokens: JWT, HS256 only. Refresh tokens are ``shared.accounts.refresh_tokens``.

Every access token names the key that signed it in its ``kid`` header, so during a rotation of
the signing secret the tokens of the previous key keep working (see ``shared.config.JwtSecrets``).

Kept apart from the password code (bcrypt) and the request models, so the authorizer, which
only checks tokens and sessions, imports neither; and apart from the sessions' queries, so that
a function that only ends sessions (log out) imports no PyJWT.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from shared.errors import Unauthorized

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "iat", "exp", "iss", "aud", "sid", "jti"]
_KID_CONTEXT = b"prompt-api jwt kid\x00"


def key_id(secret: str) -> str:
    """The ``kid`` of a signing secret: 8 hex digits derived from it, so a secret keeps its id when it
    moves from current to previous, and no operator has to name keys.

    Hashed with a context prefix: HMAC-SHA256 uses SHA-256(secret) as its key for secrets longer than
    64 bytes, and the id must not be a piece of that.
    """
    return hashlib.sha256(_KID_CONTEXT + secret.encode()).hexdigest()[:8]


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
    """A token for ``subject`` (the user id) in session ``session_id``, valid for ``expires_minutes``,
    signed with ``secret`` (the current key) and naming it in its ``kid`` header."""
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
    return jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": key_id(secret)})


def decode_access_token(token: str, *, secrets: Sequence[str], issuer: str, audience: str) -> dict[str, Any]:
    """The claims of a valid token signed with one of ``secrets``; ``jwt.InvalidTokenError`` for any other.

    The token's ``kid`` picks the secret. A token without one, or naming none of ``secrets`` (a key
    dropped after a rotation), is refused: every token this code signs carries its ``kid``.
    """
    kid = jwt.get_unverified_header(token).get("kid")  # InvalidTokenError (DecodeError) when malformed
    by_kid = {key_id(secret): secret for secret in secrets}
    if kid not in by_kid:
        raise jwt.InvalidTokenError("The token names no known signing key")
    claims: dict[str, Any] = jwt.decode(
        token,
        by_kid[kid],
        algorithms=[ALGORITHM],
        issuer=issuer,
        audience=audience,
        options={"require": REQUIRED_CLAIMS},
    )
    return claims


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Not authenticated")
    return token.strip()
