"""Refresh tokens: opaque, never guessable; only their hash is ever stored.

A login's token is random. Each later one, the successor a refresh gives for the token it spends,
is derived from the spent token with a server key (HMAC-SHA256): a retry of that refresh (a lost
answer, two tabs at once) derives the same successor again, so the session can hand it out once
more within the grace without keeping any token in clear.

No PyJWT here: the sessions' queries use this module, and a function that only ends sessions
(log out) should not pay for PyJWT at its cold start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

REFRESH_TOKEN_BYTES = 32  # 256 bits of randomness
_SUCCESSOR_CONTEXT = b"prompt-api refresh successor\x00"
_DERIVED_SESSION_CONTEXT = b"prompt-api derived session\x00"


def new_refresh_token() -> str:
    """An opaque, random refresh token (256 bits, URL-safe); only its hash is ever stored."""
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def successor_token(spent: str, *, key: str) -> str:
    """The refresh token that replaces ``spent``: 256 bits, URL-safe, the same every time for the same
    ``spent`` and ``key`` (the current JWT signing secret), and unknowable without the key."""
    digest = hmac.new(key.encode(), _SUCCESSOR_CONTEXT + spent.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def derived_session_token(session_id: str, *, key: str) -> str:
    """The first refresh token of a session whose id is derived (a password change's new session): the
    same for a retry of that change, so it can answer the same pair, and unknowable without the key."""
    digest = hmac.new(key.encode(), _DERIVED_SESSION_CONTEXT + session_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_refresh_token(token: str) -> str:
    """The SHA-256 hex digest under which a refresh token is stored and looked up.

    A plain hash is enough: the token is 256 random bits, so it cannot be guessed from its hash.
    """
    return hashlib.sha256(token.encode()).hexdigest()
