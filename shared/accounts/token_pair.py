"""The token pair a session answers with: a signed access token and its refresh token."""

from __future__ import annotations

from shared.accounts.access_tokens import create_access_token
from shared.accounts.models import Token
from shared.accounts.sessions import NewSession
from shared.config import jwt_secret, token_settings


def token_pair(session: NewSession) -> Token:
    """The access token and refresh token of a session just started or rotated."""
    settings = token_settings()
    access_token = create_access_token(
        subject=session.user_id,
        session_id=session.session_id,
        secret=jwt_secret(),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        expires_minutes=settings.jwt_expire_minutes,
    )
    return Token(
        access_token=access_token,
        expires_in=settings.jwt_expire_minutes * 60,
        refresh_token=session.refresh_token,
        refresh_expires_in=settings.refresh_expire_days * 24 * 60 * 60,
    )
