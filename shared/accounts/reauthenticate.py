"""The password check of a signed-in caller who must give their password again (a password change,
deleting the account)."""

from __future__ import annotations

from shared.accounts.models import UserInDB
from shared.accounts.passwords import verify_password
from shared.accounts.users import UserRepository
from shared.config import password_settings
from shared.errors import BadRequest, Unauthorized

INCORRECT_PASSWORD = "Incorrect password"  # noqa: S105 - a message, not a secret


def with_password(user_id: str, password: str) -> UserInDB:
    """The caller, once ``password`` is proved theirs: BadRequest when wrong (one bcrypt check either way)."""
    user = UserRepository().get_with_hash(user_id)
    rounds = password_settings().bcrypt_rounds
    matches = verify_password(password, user.hashed_password if user else None, rounds=rounds)
    if user is None or not user.is_active:
        raise Unauthorized()
    if not matches:
        raise BadRequest(INCORRECT_PASSWORD)
    return user
