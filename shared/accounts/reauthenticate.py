"""The password check of a signed-in caller who must give their password again (a password change,
deleting the account)."""

from __future__ import annotations

from shared.accounts.login_attempts import TOO_MANY_WRONG_PASSWORDS, PasswordGuard
from shared.accounts.models import UserInDB
from shared.accounts.passwords import verify_password
from shared.accounts.users import UserRepository
from shared.config import password_settings
from shared.errors import BadRequest, Unauthorized
from shared.metrics import Metric

INCORRECT_PASSWORD = "Incorrect password"  # noqa: S105 - a message, not a secret


def with_password(user_id: str, password: str, *, client_address: str) -> UserInDB:
    """The caller, once ``password`` is proved theirs: BadRequest when wrong.

    The check counts against the same limits as a login of the account's email from
    ``client_address`` (``PasswordGuard``), so a stolen access token is no unthrottled password oracle:
    past them it is a 429 with ``Retry-After``, even with the right password.
    """
    user = UserRepository().get_with_hash(user_id)
    if user is None or not user.is_active:
        raise Unauthorized()
    guard = PasswordGuard(user.email, client_address, throttled=Metric.PASSWORD_CHECK_THROTTLED)
    guard.admit(TOO_MANY_WRONG_PASSWORDS)
    if not verify_password(password, user.hashed_password, rounds=password_settings().bcrypt_rounds):
        raise BadRequest(INCORRECT_PASSWORD)
    guard.proved()
    return user
