"""Reset the password with a mailed token: the new password in force, every session ended."""

from __future__ import annotations

from datetime import timedelta

from shared.accounts.models import PasswordReset
from shared.accounts.passwords import hash_password
from shared.accounts.reset_tokens import ResetTokenRepository
from shared.accounts.sessions import SessionRepository
from shared.accounts.users import UserRepository
from shared.config import password_settings
from shared.errors import BadRequest
from shared.ids import utcnow
from shared.metrics import Metric, count

INVALID_TOKEN = "Invalid, expired or spent reset token"  # noqa: S105 - a message, not a secret


def reset_password(data: PasswordReset) -> None:
    """Spend the token and set the new password; BadRequest, one message, for a token that is unknown,
    expired, already spent or voided, or whose account is gone or inactive.

    The token is spent first (one atomic delete), so of two resets with it exactly one goes on. The new
    hash and ``sessions_valid_after`` are one write, as for a password change: every session started so
    far ends. Then the user's other reset tokens are voided and their sessions marked ended.
    """
    tokens = ResetTokenRepository()
    user_id = tokens.spend(data.token)
    if user_id is None:
        raise BadRequest(INVALID_TOKEN)
    new_hash = hash_password(data.new_password, rounds=password_settings().bcrypt_rounds)
    cut = utcnow() + timedelta(milliseconds=1)
    if not UserRepository().reset_password(user_id, new_hash=new_hash, sessions_valid_after=cut):
        raise BadRequest(INVALID_TOKEN)
    tokens.void_all(user_id)
    SessionRepository().end_all(user_id, reason="password_reset")
    count(Metric.PASSWORD_RESET)
