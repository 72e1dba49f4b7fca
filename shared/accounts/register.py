"""Registering: a bcrypt hash and a new user. No tokens (logging in is ``shared.accounts.login``), so the register
function's init loads no PyJWT."""

from __future__ import annotations

from datetime import timedelta

from shared.accounts.login_attempts import TOO_MANY_WRONG_PASSWORDS, PasswordGuard
from shared.accounts.models import UserCreate, UserInDB, UserPublic
from shared.accounts.passwords import check_password, hash_password
from shared.accounts.users import UserRepository
from shared.config import password_settings
from shared.errors import Conflict
from shared.ids import utcnow
from shared.metrics import Metric, count

RETRY_WINDOW = timedelta(hours=24)
"""How long the same registration, retried, answers the account it created (as an Idempotency-Key would)."""


def register_user(data: UserCreate, *, client_address: str) -> UserPublic:
    """Create an account; Conflict when the email is already registered in any letter case.

    The same request retried (a lost answer, a 503 after the insert) answers 201 with the account it
    created: same email, same username, the password matching, the account active and created within
    RETRY_WINDOW. Anyone else, or later, gets the 409.
    """
    settings = password_settings()
    users = UserRepository()
    hashed = hash_password(data.password, rounds=settings.bcrypt_rounds)
    try:
        user = users.create(email=data.email, username=data.username, hashed_password=hashed)
    except Conflict:
        replayed = _replayed(users, data, client_address=client_address)
        if replayed is None:
            raise
        return replayed
    count(Metric.REGISTERED)
    return user


def _replayed(users: UserRepository, data: UserCreate, *, client_address: str) -> UserPublic | None:
    """The account a registration retried created, or None (a 409) for every other taken email.

    Answering 201 for the right password makes this a password check of the account, so it goes through
    the same ``PasswordGuard`` as a login of the email from ``client_address``: counted first, a 429 past
    the limits (whatever the password), a right password proved. And every 409 spends the same work, so
    its time tells nothing: the guard, the lookup and one bcrypt check, against the account's hash only
    when the replay could answer it (its username, active, within RETRY_WINDOW), else against a dummy
    hash as a login of an unknown email does.
    """
    guard = PasswordGuard(data.email, client_address, throttled=Metric.PASSWORD_CHECK_THROTTLED)
    guard.admit(TOO_MANY_WRONG_PASSWORDS)
    existing = users.get_by_email(data.email)
    replayable = existing if existing is not None and _may_replay(existing, data) else None
    hashed = replayable.hashed_password if replayable is not None else None
    check = check_password(data.password, hashed, rounds=password_settings().bcrypt_rounds)
    if replayable is None or not check.matches:
        return None
    guard.proved()
    return UserPublic.model_validate(replayable.model_dump(include=set(UserPublic.model_fields)))


def _may_replay(existing: UserInDB, data: UserCreate) -> bool:
    """Whether ``existing`` is what ``data`` could have created: its username, still active (neither
    deactivated nor being deleted), created within RETRY_WINDOW."""
    return existing.username == data.username and existing.is_active and utcnow() - existing.created_at <= RETRY_WINDOW
