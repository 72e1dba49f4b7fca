"""Deactivate an account (an operator's action)."""

from __future__ import annotations

from datetime import timedelta

from shared.accounts.reset_tokens import ResetTokenRepository
from shared.accounts.sessions import SessionRepository
from shared.accounts.users import UserRepository
from shared.ids import utcnow


def deactivate(user_id: str) -> bool:
    """Make the account inactive (an operator's action): its sessions end in the same write, its
    tokens are refused, it can no longer log in (403), and reset links mailed before stop working (so a
    reactivation does not revive them). False when there is no such user."""
    cut = utcnow() + timedelta(milliseconds=1)
    if not UserRepository().deactivate(user_id, sessions_valid_after=cut):
        return False
    SessionRepository().end_all(user_id, reason="deactivated")
    ResetTokenRepository().void_all(user_id)
    return True
