"""Registering: a bcrypt hash and a new user. No tokens (logging in is ``shared.accounts.login``), so the register
function's init loads no PyJWT."""

from __future__ import annotations

from shared.accounts.models import UserCreate, UserPublic
from shared.accounts.passwords import hash_password
from shared.accounts.users import UserRepository
from shared.config import password_settings
from shared.metrics import Metric, count


def register_user(data: UserCreate) -> UserPublic:
    """Create an account; Conflict when the email is already registered in any letter case."""
    hashed = hash_password(data.password, rounds=password_settings().bcrypt_rounds)
    user = UserRepository().create(email=data.email, username=data.username, hashed_password=hashed)
    count(Metric.REGISTERED)
    return user
