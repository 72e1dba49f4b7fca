"""Registering: a bcrypt hash and a new user. No tokens (logging in is ``shared.accounts.login``), so the register
function's init loads no PyJWT."""

from __future__ import annotations

from datetime import timedelta

from shared.accounts.models import UserCreate, UserPublic
from shared.accounts.passwords import hash_password, verify_password
from shared.accounts.users import UserRepository
from shared.config import password_settings
from shared.errors import Conflict
from shared.ids import utcnow
from shared.metrics import Metric, count

RETRY_WINDOW = timedelta(hours=24)
"""How long the same registration, retried, answers the account it created (as an Idempotency-Key would)."""


def register_user(data: UserCreate) -> UserPublic:
    """Create an account; Conflict when the email is already registered in any letter case.

    The same request retried (a lost answer, a 503 after the insert) answers 201 with the account it
    created: same email, same username, the password matching, created within RETRY_WINDOW. Anyone
    else, or later, gets the 409. The check costs one more bcrypt verification, on the 409 path only.
    """
    settings = password_settings()
    users = UserRepository()
    hashed = hash_password(data.password, rounds=settings.bcrypt_rounds)
    try:
        user = users.create(email=data.email, username=data.username, hashed_password=hashed)
    except Conflict:
        existing = users.get_by_email(data.email)
        if (
            existing is None
            or existing.username != data.username
            or utcnow() - existing.created_at > RETRY_WINDOW
            or not verify_password(data.password, existing.hashed_password, rounds=settings.bcrypt_rounds)
        ):
            raise
        return UserPublic.model_validate(existing.model_dump(include=set(UserPublic.model_fields)))
    count(Metric.REGISTERED)
    return user
