"""What users do with their own account that takes their password: change it, delete the account; and
what an operator does to one (deactivate it)."""

from __future__ import annotations

from datetime import timedelta

from shared.auth import token_pair
from shared.config import get_settings
from shared.errors import BadRequest, Unauthorized
from shared.ids import utcnow
from shared.models import AccountDeletion, PasswordChange, Token, UserInDB
from shared.repositories import PromptRepository, UserRepository
from shared.security import hash_password, verify_password
from shared.sessions import SessionRepository

INCORRECT_PASSWORD = "Incorrect password"  # noqa: S105 - a message, not a secret
SAME_PASSWORD = "The new password must differ from the current one"  # noqa: S105 - a message


def _with_password(user_id: str, password: str) -> UserInDB:
    """The caller, once ``password`` is proved theirs: BadRequest when wrong (one bcrypt check either way)."""
    user = UserRepository().get_with_hash(user_id)
    matches = verify_password(password, user.hashed_password if user else None, rounds=get_settings().bcrypt_rounds)
    if user is None or not user.is_active:
        raise Unauthorized()
    if not matches:
        raise BadRequest(INCORRECT_PASSWORD)
    return user


def change_password(user_id: str, data: PasswordChange) -> Token:
    """Store the new password, end every session of the user, and start a new one.

    The new hash and ``sessions_valid_after`` are one write, conditional on the old hash, so of two
    concurrent changes one wins and the other is told its current password is wrong. The cut is one
    millisecond after now, so every session created so far (``created_at`` <= now, both kept to the
    millisecond) is before it, and the new session is created at the cut itself, which counts as after.
    """
    user = _with_password(user_id, data.current_password)
    if data.new_password == data.current_password:
        raise BadRequest(SAME_PASSWORD)
    new_hash = hash_password(data.new_password, rounds=get_settings().bcrypt_rounds)
    cut = utcnow() + timedelta(milliseconds=1)
    if not UserRepository().replace_password(
        user_id, old_hash=user.hashed_password, new_hash=new_hash, sessions_valid_after=cut
    ):
        raise BadRequest(INCORRECT_PASSWORD)
    sessions = SessionRepository()
    # Dead already by sessions_valid_after; this says so, and also ends a session that a login which
    # checked the old password just before the change started just after it (see issue_token).
    sessions.end_all(user_id, reason="password_change")
    return token_pair(sessions.start(user_id, now=cut))


def delete_account(user_id: str, data: AccountDeletion) -> None:
    """Delete the user, then their sessions, then their prompts: in that order, each step idempotent.

    The user goes first, so the email is free and the authorizer refuses the account's tokens at once.
    A failure halfway cannot be finished by calling again (the account is gone, so its token is
    refused); what it leaves belongs to no user and no one can reach it. See
    ``shared.prompts.create_owned_prompt`` for why no prompt written meanwhile survives.
    """
    _with_password(user_id, data.password)
    UserRepository().delete(user_id)
    SessionRepository().delete_all(user_id)
    PromptRepository().delete_all(user_id)


def deactivate(user_id: str) -> bool:
    """Make the account inactive (an operator's action): its sessions end in the same write, its
    tokens are refused, and it can no longer log in (403). False when there is no such user."""
    cut = utcnow() + timedelta(milliseconds=1)
    if not UserRepository().deactivate(user_id, sessions_valid_after=cut):
        return False
    SessionRepository().end_all(user_id, reason="deactivated")
    return True
