"""Log in: email and password for the token pair of a new session, throttled per (email, address)
and per email."""

from __future__ import annotations

from shared.accounts.login_attempts import PasswordGuard
from shared.accounts.models import Token, UserLogin
from shared.accounts.passwords import check_password, hash_password, verify_password
from shared.accounts.sessions import SessionRepository
from shared.accounts.token_pair import token_pair
from shared.accounts.users import UserRepository
from shared.config import password_settings
from shared.errors import Forbidden, Unauthorized
from shared.metrics import Metric, count

INVALID_CREDENTIALS = "Incorrect email or password"


def log_in(data: UserLogin, *, client_address: str) -> Token:
    """A token pair of a new session for valid credentials.

    Each attempt is counted before the password is checked (``PasswordGuard``): past
    LOGIN_MAX_FAILURES from this client address, or LOGIN_MAX_FAILURES_PER_EMAIL from everywhere, every
    attempt is a 429 until its window ends, whoever the email belongs to and whatever the password.
    An unknown email and a wrong password get the same 401, in the same time. A login that proves the
    password clears its address's count, and re-hashes a password stored at another bcrypt cost than
    BCRYPT_ROUNDS or hashed before passwords were normalised.
    """
    settings = password_settings()
    guard = PasswordGuard(data.email, client_address)
    guard.admit()
    users = UserRepository()
    user = users.get_by_email(data.email)
    hashed = user.hashed_password if user else None
    check = check_password(data.password, hashed, rounds=settings.bcrypt_rounds)
    if not check.matches or user is None:
        count(Metric.LOGIN_FAILED)
        raise Unauthorized(INVALID_CREDENTIALS)
    guard.proved()
    if not user.is_active:
        raise Forbidden("Inactive user")
    checked_hash = user.hashed_password
    if check.stale:
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
