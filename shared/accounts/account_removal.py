"""Finishing an account's deletion: remove everything it owns, then the user document (its tombstone).

Shared by ``DELETE /api/me`` (``shared.accounts.delete_account``) and the scheduled sweep
(``shared.accounts.sweep``); no bcrypt, no PyJWT.
"""

from __future__ import annotations

from shared.accounts.owned_data import OWNED, Owner
from shared.accounts.users import UserRepository


def finish_deletion(user_id: str) -> bool:
    """Remove everything of the account being deleted, in ``OWNED``'s order, then its tombstone (so the
    email can register again). Every step is idempotent: any number of runs, interrupted anywhere, end
    the same. True when this run removed the tombstone; False when there was none (live or gone)."""
    users = UserRepository()
    tombstone = users.tombstone(user_id)
    if tombstone is None:
        return False
    owner = Owner(user_id, tombstone.email)
    for owned in OWNED:
        owned.remove(owner)
    return users.remove_tombstone(user_id)
