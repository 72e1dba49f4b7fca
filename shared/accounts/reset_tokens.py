"""The ``reset_tokens`` collection: password-reset tokens, stored only as their hash.

A token is 256 random bits, URL-safe; its document is ``{_id: sha256(token), user_id, created_at,
expires_at}`` (TTL index on ``expires_at``). Spending one deletes it (single use); issuing one voids
the user's earlier ones, and so do a reset and a password change.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from shared.data.client import get_database, retry_once, translated
from shared.data.ownership import owned_by
from shared.ids import utcnow

RESET_TOKEN_BYTES = 32  # 256 bits of randomness


def new_reset_token() -> str:
    """A random reset token: 256 bits, URL-safe base64 (it travels in a link's query string as it is)."""
    return secrets.token_urlsafe(RESET_TOKEN_BYTES)


def hash_reset_token(token: str) -> str:
    """The SHA-256 hex digest under which a reset token is stored and looked up (256 random bits cannot
    be guessed back from it, so a plain hash is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ResetTokenRepository:
    def __init__(self) -> None:
        self.collection = get_database().reset_tokens

    @translated
    def issue(self, user_id: str, token: str, *, lifetime: timedelta) -> None:
        """Store ``token`` (its hash) for ``user_id``, valid for ``lifetime``, and void the user's earlier
        tokens. Stored first, then the older ones removed: of two requests at once, the later one's token
        stays valid, and neither removes the other's unless it is older."""
        now = utcnow()
        self.collection.insert_one(
            {"_id": hash_reset_token(token), "user_id": user_id, "created_at": now, "expires_at": now + lifetime}
        )
        self.collection.delete_many({"user_id": user_id, "created_at": {"$lt": now}})

    @translated
    def spend(self, token: str) -> str | None:
        """Spend ``token`` if it is stored and unexpired (one atomic delete: of two concurrent resets with
        one token exactly one gets it); the user id it was issued for, else None."""
        doc = self.collection.find_one_and_delete({"_id": hash_reset_token(token), "expires_at": {"$gt": utcnow()}})
        return None if doc is None else str(doc["user_id"])

    @translated
    def void_all(self, user_id: str) -> int:
        """Remove every reset token of ``user_id`` (after a reset or a password change); how many."""
        return retry_once(lambda: self.collection.delete_many(owned_by(user_id))).deleted_count
