"""The authorizer's check: who a bearer token belongs to, if its session is live and its user active."""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from shared.accounts.access_tokens import decode_access_token
from shared.accounts.sessions import SessionRepository, session_is_valid
from shared.config import jwt_secrets, token_settings
from shared.errors import Unauthorized


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a valid access token of a live session belongs to (the authorizer's context)."""

    user_id: str
    session_id: str


def caller_from_token(token: str) -> Caller:
    """The caller of a valid access token whose session is live and whose user is active.

    One database round trip (the session with its user); Unauthorized for anything else.
    """
    settings = token_settings()
    try:
        claims = decode_access_token(
            token, secrets=jwt_secrets().verifying, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
    except jwt.InvalidTokenError as e:
        raise Unauthorized() from e
    user_id, session_id = str(claims["sub"]), str(claims["sid"])
    found = SessionRepository().live_with_user(session_id)
    if found is None:
        raise Unauthorized()
    session, user = found
    if user is None or user["_id"] != user_id or not session_is_valid(session, user):
        raise Unauthorized()
    return Caller(user_id=user_id, session_id=session_id)
