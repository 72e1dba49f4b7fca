"""Delete the account: the user, their sessions and their prompts."""

from __future__ import annotations

from shared.accounts.models import AccountDeletion
from shared.accounts.reauthenticate import with_password
from shared.accounts.sessions import SessionRepository
from shared.accounts.users import UserRepository
from shared.prompts.prompts import PromptRepository


def delete_account(user_id: str, data: AccountDeletion, *, client_address: str) -> None:
    """Delete the user, then their sessions, then their prompts: in that order, each step idempotent.

    The user goes first, so the email is free and the authorizer refuses the account's tokens at once.
    A failure halfway cannot be finished by calling again (the account is gone, so its token is
    refused); what it leaves belongs to no user and no one can reach it. See
    ``shared.prompts.create_prompt.create_owned_prompt`` for why no prompt written meanwhile survives.
    """
    with_password(user_id, data.password, client_address=client_address)
    UserRepository().delete(user_id)
    SessionRepository().delete_all(user_id)
    PromptRepository().delete_all(user_id)
