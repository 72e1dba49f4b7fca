"""Refresh: spend a refresh token for a new pair of the same session."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from shared.accounts.models import Token, TokenRefresh
from shared.accounts.sessions import SessionRepository, session_is_valid
from shared.accounts.token_pair import token_pair
from shared.errors import Unauthorized
from shared.metrics import Metric, count

logger = Logger(child=True)

INVALID_REFRESH_TOKEN = "Invalid refresh token"  # noqa: S105 - a message, not a secret


def refresh_session(data: TokenRefresh) -> Token:
    """Spend a refresh token for a new pair of the same session (rotation, RFC 9700 4.14.2).

    A refresh token that its session already spent ends that session: someone else has had it.
    That includes the loser of two concurrent refreshes with one token, which is the strict
    reading of the RFC. Unknown, expired, spent and ended tokens all get the same 401.
    """
    sessions = SessionRepository()
    rotated = sessions.rotate(data.refresh_token)
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
