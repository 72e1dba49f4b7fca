"""Change the password: prove the current one, store the new one, end every other session."""

from __future__ import annotations

from datetime import timedelta

from shared.accounts.models import PasswordChange, Token
from shared.accounts.passwords import hash_password
from shared.accounts.reauthenticate import INCORRECT_PASSWORD, with_password
from shared.accounts.reset_tokens import ResetTokenRepository
from shared.accounts.sessions import SessionRepository
from shared.accounts.token_pair import token_pair
from shared.accounts.users import UserRepository
from shared.config import get_settings
from shared.errors import BadRequest
from shared.ids import utcnow

SAME_PASSWORD = "The new password must differ from the current one"  # noqa: S105 - a message


def change_password(user_id: str, data: PasswordChange, *, client_address: str) -> Token:
    """Store the new password, end every session of the user, and start a new one.

    The new hash and ``sessions_valid_after`` are one write, conditional on the old hash, so of two
    concurrent changes one wins and the other is told its current password is wrong. The cut is one
    millisecond after now, so every session created so far (``created_at`` <= now, both kept to the
    millisecond) is before it, and the new session is created at the cut itself, which counts as after.
    """
    user = with_password(user_id, data.current_password, client_address=client_address)
    if data.new_password == data.current_password:
        raise BadRequest(SAME_PASSWORD)
    new_hash = hash_password(data.new_password, rounds=get_settings().bcrypt_rounds)
    cut = utcnow() + timedelta(milliseconds=1)
    if not UserRepository().replace_password(
        user_id, old_hash=user.hashed_password, new_hash=new_hash, sessions_valid_after=cut
    ):
        raise BadRequest(INCORRECT_PASSWORD)
    ResetTokenRepository().void_all(user_id)  # a reset link mailed before the change no longer works
    sessions = SessionRepository()
    # Dead already by sessions_valid_after; this says so, and also ends a session that a login which
    # checked the old password just before the change started just after it (see ``shared.accounts.login.log_in``).
    sessions.end_all(user_id, reason="password_change")
    return token_pair(sessions.start(user_id, now=cut))
