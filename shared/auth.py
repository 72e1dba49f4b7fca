"""The authentication flows: log in (throttled), refresh. Registering is ``shared.registration``, logging
out ``shared.sessions``."""

from __future__ import annotations

from datetime import timedelta

from aws_lambda_powertools import Logger

from shared.config import get_settings, jwt_secret
from shared.errors import Forbidden, TooManyRequests, Unauthorized
from shared.metrics import Metric, count
from shared.models import Token, TokenRefresh, UserLogin
from shared.repositories import LoginAttemptRepository, UserRepository, seconds_until
from shared.security import hash_password, needs_rehash, verify_password
from shared.sessions import NewSession, SessionRepository, session_is_valid
from shared.tokens import create_access_token

logger = Logger(child=True)

INVALID_CREDENTIALS = "Incorrect email or password"
INVALID_REFRESH_TOKEN = "Invalid refresh token"  # noqa: S105 - a message, not a secret
TOO_MANY_LOGINS = "Too many failed logins; try again later"


def token_pair(session: NewSession) -> Token:
    """The access token and refresh token of a session just started or rotated."""
    settings = get_settings()
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


def issue_token(data: UserLogin) -> Token:
    """A token pair of a new session for valid credentials.

    Each attempt is counted before the password is checked (one atomic increment), so concurrent
    wrong guesses cannot get more than LOGIN_MAX_FAILURES answers; past that every attempt for the
    email is a 429 until its window ends, whoever the email belongs to and whatever the password.
    An unknown email and a wrong password get the same 401. A login that proves the password clears
    the count, and re-hashes a password stored at another bcrypt cost than BCRYPT_ROUNDS.
    """
    settings = get_settings()
    attempts = LoginAttemptRepository()
    attempt, window_ends = attempts.reserve(data.email, window=timedelta(minutes=settings.login_window_minutes))
    if attempt > settings.login_max_failures:
        count(Metric.LOGIN_THROTTLED)
        raise TooManyRequests(TOO_MANY_LOGINS, retry_after=seconds_until(window_ends))
    users = UserRepository()
    user = users.get_by_email(data.email)
    hashed = user.hashed_password if user else None
    if not verify_password(data.password, hashed, rounds=settings.bcrypt_rounds) or user is None:
        count(Metric.LOGIN_FAILED)
        raise Unauthorized(INVALID_CREDENTIALS)
    attempts.clear(data.email)
    if not user.is_active:
        raise Forbidden("Inactive user")
    checked_hash = user.hashed_password
    if needs_rehash(checked_hash, rounds=settings.bcrypt_rounds):
        new_hash = hash_password(data.password, rounds=settings.bcrypt_rounds)
        if users.replace_password(user.id, old_hash=checked_hash, new_hash=new_hash):
            checked_hash = new_hash
    sessions = SessionRepository()
    session = sessions.start(user.id)
    # A password change or a deactivation may have landed since the password was checked. If it did
    # before this check, the session ends here; if after, the change's own end_all ends it.
    if not _still_valid(users, user.id, checked_hash, data.password):
        sessions.end(session.session_id, reason="revoked")
        raise Unauthorized(INVALID_CREDENTIALS)
    count(Metric.LOGIN_SUCCEEDED)
    return token_pair(session)


def _still_valid(users: UserRepository, user_id: str, checked_hash: str, password: str) -> bool:
    """Whether the user is still active with the password just checked. The stored hash is almost
    always the one checked; if not (a concurrent login re-hashed it, or the password changed), the
    password is checked against the new one."""
    if users.has_password(user_id, checked_hash):
        return True
    current = users.get_with_hash(user_id)
    if current is None or not current.is_active:
        return False
    return verify_password(password, current.hashed_password, rounds=get_settings().bcrypt_rounds)


def refresh_token_pair(data: TokenRefresh) -> Token:
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
