"""The ``users`` collection: accounts, their password hashes and the cut that ends their sessions.

Documents keep the UUID in ``_id``; models expose it as ``id``. Every method is wrapped in
``shared.data.client.translated``, which turns "cannot reach the database" driver errors into
ServiceUnavailable; the one driver error with a meaning of its own, a duplicate email, becomes
Conflict here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.accounts.models import UserInDB, UserPublic
from shared.data.client import get_database, translated
from shared.data.pages import to_model
from shared.errors import Conflict
from shared.ids import new_id, utcnow


class UserRepository:
    def __init__(self) -> None:
        self.collection = get_database().users

    @translated
    def create(self, *, email: str, username: str, hashed_password: str) -> UserPublic:
        """Store a new active user; Conflict when the (lower-cased) email is taken."""
        doc = {
            "_id": new_id(),
            "email": email,
            "username": username,
            "hashed_password": hashed_password,
            "created_at": utcnow(),
            "is_active": True,
        }
        try:
            self.collection.insert_one(doc)
        except DuplicateKeyError as e:
            raise Conflict("Email already registered") from e
        return to_model(UserPublic, doc)

    @translated
    def get_by_email(self, email: str) -> UserInDB | None:
        doc = self.collection.find_one({"email": email})
        return None if doc is None else to_model(UserInDB, doc)

    @translated
    def get(self, user_id: str) -> UserPublic | None:
        doc = self.collection.find_one({"_id": user_id}, {"hashed_password": False})
        return None if doc is None else to_model(UserPublic, doc)

    @translated
    def get_with_hash(self, user_id: str) -> UserInDB | None:
        """The user with their password hash, to check a password they give again."""
        doc = self.collection.find_one({"_id": user_id})
        return None if doc is None else to_model(UserInDB, doc)

    @translated
    def has_password(self, user_id: str, hashed_password: str) -> bool:
        """Whether the user is still active with this very password hash."""
        query = {"_id": user_id, "hashed_password": hashed_password, "is_active": True}
        return self.collection.count_documents(query, limit=1) > 0

    @translated
    def is_active(self, user_id: str) -> bool:
        """Whether the user still exists and is active."""
        return self.collection.count_documents({"_id": user_id, "is_active": True}, limit=1) > 0

    @translated
    def update_username(self, user_id: str, username: str) -> UserPublic | None:
        doc = self.collection.find_one_and_update(
            {"_id": user_id},
            {"$set": {"username": username}},
            projection={"hashed_password": False},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else to_model(UserPublic, doc)

    @translated
    def replace_password(
        self, user_id: str, *, old_hash: str, new_hash: str, sessions_valid_after: datetime | None = None
    ) -> bool:
        """Store ``new_hash`` if the stored hash is still ``old_hash`` (so of two concurrent changes one
        wins); with ``sessions_valid_after``, every session started before that moment ends in the same
        write. False when the hash had already changed (or the user is gone)."""
        changes: dict[str, Any] = {"hashed_password": new_hash}
        if sessions_valid_after is not None:
            changes["sessions_valid_after"] = sessions_valid_after
        result = self.collection.update_one({"_id": user_id, "hashed_password": old_hash}, {"$set": changes})
        return result.modified_count == 1

    @translated
    def reset_password(self, user_id: str, *, new_hash: str, sessions_valid_after: datetime) -> bool:
        """Store ``new_hash`` for the active user ``user_id`` whatever the old one was (a reset proves the
        mailbox, not the password), ending every session started before ``sessions_valid_after`` in the
        same write. False when there is no such active user."""
        result = self.collection.update_one(
            {"_id": user_id, "is_active": True},
            {"$set": {"hashed_password": new_hash, "sessions_valid_after": sessions_valid_after}},
        )
        return result.matched_count == 1

    @translated
    def reactivate(self, user_id: str) -> bool:
        """Mark the user active again (their ended sessions stay ended). False when there is no such user."""
        return self.collection.update_one({"_id": user_id}, {"$set": {"is_active": True}}).matched_count == 1

    @translated
    def deactivate(self, user_id: str, *, sessions_valid_after: datetime) -> bool:
        """Mark the user inactive and end every session they started before ``sessions_valid_after``."""
        result = self.collection.update_one(
            {"_id": user_id}, {"$set": {"is_active": False, "sessions_valid_after": sessions_valid_after}}
        )
        return result.matched_count == 1

    @translated
    def delete(self, user_id: str) -> None:
        """Remove the user; their email can register again at once."""
        self.collection.delete_one({"_id": user_id})
