"""Refresh: spend a refresh token for a new pair of the same session."""

from __future__ import annotations

from datetime import timedelta

from aws_lambda_powertools import Logger

from shared.accounts.models import Token, TokenRefresh
from shared.accounts.refresh_tokens import successor_token
from shared.accounts.sessions import NewSession, SessionRepository, session_is_valid
from shared.accounts.token_pair import token_pair
from shared.config import jwt_secrets, token_settings
from shared.data.client import Document
from shared.errors import Unauthorized
from shared.metrics import Metric, count

logger = Logger(child=True)

INVALID_REFRESH_TOKEN = "Invalid refresh token"  # noqa: S105 - a message, not a secret


def refresh_session(data: TokenRefresh) -> Token:
    """Spend a refresh token for a new pair of the same session (rotation, RFC 9700 4.14.2).

    Within REFRESH_REUSE_GRACE_SECONDS of a rotation, and while its successor is unused, the token it
    spent gets the same successor again (with a new access token): a lost answer or two tabs
    refreshing at once, not a theft. Otherwise a refresh token that its session already spent ends
    that session: someone else has had it. Unknown, expired, spent and ended tokens get the same 401.
    """
    settings = token_settings()
    keys = jwt_secrets()
    sessions = SessionRepository()
    rotated = sessions.rotate(data.refresh_token, successor=successor_token(data.refresh_token, key=keys.current))
    if rotated is None and settings.refresh_reuse_grace_seconds:
        rotated = _retried(sessions, data.refresh_token, keys.verifying, settings.refresh_reuse_grace_seconds)
    if rotated is None:
        if sessions.end_if_spent(data.refresh_token):
            count(Metric.REFRESH_REUSE_DETECTED)
            logger.warning("A spent refresh token was presented again; its session ended")
        raise Unauthorized(INVALID_REFRESH_TOKEN)
    new_session, session = rotated
    if not session_is_valid(session, sessions.owner(new_session.user_id)):
        sessions.end(new_session.session_id, reason="revoked")
        raise Unauthorized(INVALID_REFRESH_TOKEN)
    count(Metric.TOKEN_REFRESHED)
    return token_pair(new_session)


def _retried(
    sessions: SessionRepository, refresh_token: str, keys: tuple[str, ...], grace_seconds: int
) -> tuple[NewSession, Document] | None:
    """The rotation that spent ``refresh_token`` moments ago, if this is a retry of it. Each verifying key
    is tried: the signing secret may have been swapped (a key rotation) since that rotation."""
    grace = timedelta(seconds=grace_seconds)
    for key in keys:
        found = sessions.just_rotated(refresh_token, successor=successor_token(refresh_token, key=key), grace=grace)
        if found is not None:
            count(Metric.REFRESH_RETRIED)
            logger.info("A refresh was retried within the grace; it gets the same successor")
            return found
    return None
