"""The authorizer's check: who a bearer token belongs to, if its session is live and its user active."""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from shared.accounts.access_tokens import decode_access_token
from shared.accounts.sessions import SessionRepository, may_only_retry, session_is_valid
from shared.config import jwt_secrets, token_settings
from shared.errors import Unauthorized


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a valid access token of a live session belongs to (the authorizer's context)."""

    user_id: str
    session_id: str
    only_retry: str | None = None
    """What the session may only retry (``may_only_retry``): the authorizer allows that route alone."""


def caller_from_token(token: str) -> Caller:
    """The caller of a valid access token whose session is live and whose user is active, or of a session
    that may still retry the deletion or password change it made (``Caller.only_retry``).

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
    if user is None or user["_id"] != user_id:
        raise Unauthorized()
    if session_is_valid(session, user):
        return Caller(user_id=user_id, session_id=session_id)
    only_retry = may_only_retry(session, user)
    if only_retry is None:
        raise Unauthorized()
    return Caller(user_id=user_id, session_id=session_id, only_retry=only_retry)
