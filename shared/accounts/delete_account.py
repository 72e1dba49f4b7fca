"""Delete the account: once the password is proved, it is dead at once, then everything of it goes."""

from __future__ import annotations

from datetime import timedelta

from shared.accounts.account_removal import finish_deletion
from shared.accounts.models import AccountDeletion
from shared.accounts.reauthenticate import with_password
from shared.accounts.users import UserRepository
from shared.ids import utcnow


def delete_account(user_id: str, session_id: str, data: AccountDeletion, *, client_address: str) -> None:
    """Delete the account of ``user_id``, asked by its session ``session_id``.

    1. Prove the password, then make the account a tombstone in one write (``UserRepository.mark_deleting``):
       from that write on, login, refresh, recovery and the authorizer refuse it, and every session ends.
    2. Remove what it owns and then the tombstone (``shared.accounts.account_removal.finish_deletion``).

    Stopped or failing after step 1, the deletion is finished by the same request retried (the account
    is already being deleted, so no password is checked again: it answers 204; the authorizer lets the
    session that asked through to this route alone), or else by the sweep within 15 minutes.
    """
    users = UserRepository()
    if users.tombstone(user_id) is None:
        with_password(user_id, data.password, client_address=client_address)  # 401 gone, 400 wrong, 429
        cut = utcnow() + timedelta(milliseconds=1)
        users.mark_deleting(user_id, session_id=session_id, sessions_valid_after=cut)  # False: a concurrent one did
    finish_deletion(user_id)
