"""Everything an account owns, listed once: what deleting it removes, in this order, before the user
document itself, and where the sweep looks for orphans (documents of an owner no user document names; which
of them it removes, only those this API wrote, is ``shared.accounts.sweep``'s rule).

A new collection of per-user data gets its line here, and nowhere else. Each removal is a plain
``delete_many`` by owner: repeating it is harmless, so a deletion interrupted anywhere is finished by
running the steps again (the retry, or the sweep).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared.accounts.login_attempts import LoginAttemptRepository
from shared.accounts.reset_requests import ResetRequestRepository
from shared.accounts.reset_tokens import ResetTokenRepository
from shared.accounts.sessions import SessionRepository
from shared.data.idempotency import COLLECTION as IDEMPOTENCY
from shared.data.idempotency import IdempotencyRecords
from shared.prompts.prompts import PromptRepository


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose data: the user's id, and their email for what is kept per email."""

    user_id: str
    email: str


@dataclass(frozen=True, slots=True)
class OwnedCollection:
    """One collection of per-user data: its name, how a deleted account's documents are removed (how many),
    and whether its documents carry ``user_id`` (so an orphan can be told by it)."""

    name: str
    remove: Callable[[Owner], int]
    by_user_id: bool = True


def _clear_login_attempts(owner: Owner) -> int:
    return LoginAttemptRepository().clear_email(owner.email)


def _clear_reset_requests(owner: Owner) -> int:
    ResetRequestRepository().clear(owner.email)
    return 1


OWNED: tuple[OwnedCollection, ...] = (
    OwnedCollection("prompts", lambda owner: PromptRepository().delete_all(owner.user_id)),
    OwnedCollection(IDEMPOTENCY, lambda owner: IdempotencyRecords().delete_all(owner.user_id)),
    OwnedCollection("reset_tokens", lambda owner: ResetTokenRepository().void_all(owner.user_id)),
    OwnedCollection("login_attempts", _clear_login_attempts, by_user_id=False),
    OwnedCollection("reset_requests", _clear_reset_requests, by_user_id=False),
    # Last of the data: while they exist the session that asked for the deletion may still retry it.
    OwnedCollection("sessions", lambda owner: SessionRepository().delete_all(owner.user_id)),
)
"""Removed in this order; the user document goes after all of them."""
