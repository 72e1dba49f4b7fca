"""Log in: email and password for the token pair of a new session, throttled per email."""

from __future__ import annotations

from datetime import timedelta

from shared.accounts.login_attempts import LoginAttemptRepository, seconds_until
from shared.accounts.models import Token, UserLogin
from shared.accounts.passwords import hash_password, needs_rehash, verify_password
from shared.accounts.sessions import SessionRepository
from shared.accounts.token_pair import token_pair
from shared.accounts.users import UserRepository
from shared.config import password_settings
from shared.errors import Forbidden, TooManyRequests, Unauthorized
from shared.metrics import Metric, count

INVALID_CREDENTIALS = "Incorrect email or password"
TOO_MANY_LOGINS = "Too many failed logins; try again later"


def log_in(data: UserLogin) -> Token:
    """A token pair of a new session for valid credentials.

    Each attempt is counted before the password is checked (one atomic increment), so concurrent
    wrong guesses cannot get more than LOGIN_MAX_FAILURES answers; past that every attempt for the
    email is a 429 until its window ends, whoever the email belongs to and whatever the password.
    An unknown email and a wrong password get the same 401. A login that proves the password clears
    the count, and re-hashes a password stored at another bcrypt cost than BCRYPT_ROUNDS.
    """
    settings = password_settings()
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
    return verify_password(password, current.hashed_password, rounds=password_settings().bcrypt_rounds)
