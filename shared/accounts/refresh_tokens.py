"""Refresh tokens: opaque and random; only their hash is ever stored.

No PyJWT here: the sessions' queries use this module, and a function that only ends sessions
(log out) should not pay for PyJWT at its cold start.
"""

from __future__ import annotations

import hashlib
import secrets

REFRESH_TOKEN_BYTES = 32  # 256 bits of randomness


def new_refresh_token() -> str:
    """An opaque, random refresh token (256 bits, URL-safe); only its hash is ever stored."""
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def hash_refresh_token(token: str) -> str:
    """The SHA-256 hex digest under which a refresh token is stored and looked up.

    A plain hash is enough: the token is 256 random bits, so it cannot be guessed from its hash.
    """
    return hashlib.sha256(token.encode()).hexdigest()
