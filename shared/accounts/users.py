"""The ``users`` collection: accounts, their password hashes and the cut that ends their sessions.

Documents keep the UUID in ``_id``; models expose it as ``id``. An account being deleted is a
*tombstone* until everything it owns is gone: ``is_active`` false, ``deleted_at`` and
``deleting_session`` (the session that asked) set, its sessions cut, and it is no longer found by email,
by ``get`` or by an update (``_LIVE``); its document, which still holds the email, goes last. Every method is wrapped in
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
from shared.data.pages import from_document, to_model
from shared.errors import Conflict
from shared.ids import new_id, utcnow

_LIVE: dict[str, Any] = {"deleted_at": None}  # not being deleted (a missing field matches null)
# As mark_deleting writes it: a date, not a list holding one (which $type and $lt match by its elements).
_DELETED_AT: dict[str, Any] = {"$type": "date", "$not": {"$type": "array"}}
_TOMBSTONE: dict[str, Any] = {"deleted_at": _DELETED_AT}


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
        # At most one, by the unique index; two only while a seed document not yet converted (or left
        # by ``make migrate-seed`` as a conflict) shares the email: then this API's user is the one.
        for doc in self.collection.find({"email": email, **_LIVE}).limit(2):
            user = from_document(UserInDB, doc, collection=self.collection.name)
            if user is not None:
                return user
        return None

    @translated
    def get(self, user_id: str) -> UserPublic | None:
        doc = self.collection.find_one({"_id": user_id, **_LIVE}, {"hashed_password": False})
        return None if doc is None else from_document(UserPublic, doc, collection=self.collection.name)

    @translated
    def get_with_hash(self, user_id: str) -> UserInDB | None:
        """The user with their password hash, to check a password they give again."""
        doc = self.collection.find_one({"_id": user_id})
        return None if doc is None else from_document(UserInDB, doc, collection=self.collection.name)

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
            {"_id": user_id, **_LIVE},
            {"$set": {"username": username}},
            projection={"hashed_password": False},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else from_document(UserPublic, doc, collection=self.collection.name)

    @translated
    def replace_password(
        self,
        user_id: str,
        *,
        old_hash: str,
        new_hash: str,
        sessions_valid_after: datetime | None = None,
        changed_by_session: str | None = None,
    ) -> bool:
        """Store ``new_hash`` if the stored hash is still ``old_hash`` (so of two concurrent changes one
        wins) and the account is not being deleted; with ``sessions_valid_after``, every session started
        before that moment ends in the same write, and ``changed_by_session`` names the caller's session,
        which may still retry the change (``shared.accounts.sessions.session_is_valid``). False when the
        hash had already changed (or the user is gone or being deleted)."""
        changes: dict[str, Any] = {"hashed_password": new_hash}
        if sessions_valid_after is not None:
            changes["sessions_valid_after"] = sessions_valid_after
        if changed_by_session is not None:
            changes["password_changed_by"] = changed_by_session
        query = {"_id": user_id, "hashed_password": old_hash, **_LIVE}
        return self.collection.update_one(query, {"$set": changes}).modified_count == 1

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
        """Mark the user active again (their ended sessions stay ended). False when there is no such user,
        or when it is being deleted (a tombstone never comes back)."""
        query = {"_id": user_id, **_LIVE}
        return self.collection.update_one(query, {"$set": {"is_active": True}}).matched_count == 1

    @translated
    def deactivate(self, user_id: str, *, sessions_valid_after: datetime) -> bool:
        """Mark the user inactive and end every session they started before ``sessions_valid_after``."""
        result = self.collection.update_one(
            {"_id": user_id}, {"$set": {"is_active": False, "sessions_valid_after": sessions_valid_after}}
        )
        return result.matched_count == 1

    @translated
    def mark_deleting(self, user_id: str, *, session_id: str, sessions_valid_after: datetime) -> bool:
        """Make the account a tombstone in one write: inactive, ``deleted_at`` now, every session started
        before ``sessions_valid_after`` ended, ``session_id`` (the caller's) named as the one that may
        retry. From here login, refresh and the authorizer refuse it. False when there is no such live
        user (gone, or already being deleted)."""
        changes = {
            "is_active": False,
            "deleted_at": utcnow(),
            "deleting_session": session_id,
            "sessions_valid_after": sessions_valid_after,
        }
        return self.collection.update_one({"_id": user_id, **_LIVE}, {"$set": changes}).modified_count == 1

    @translated
    def tombstone(self, user_id: str) -> UserInDB | None:
        """The user if their account is being deleted (None if live or gone)."""
        doc = self.collection.find_one({"_id": user_id, **_TOMBSTONE})
        return None if doc is None else from_document(UserInDB, doc, collection=self.collection.name)

    @translated
    def deleting_since(self, before: datetime, *, limit: int) -> list[str]:
        """Ids of at most ``limit`` tombstones made before ``before``, oldest first (the sweep's work). Only
        tombstones as ``mark_deleting`` writes them: a string ``_id`` and a date in ``deleted_at``; any other
        document with a ``deleted_at`` is left out (``unreadable_tombstones`` says what they lack)."""
        query = {"_id": {"$type": "string"}, "deleted_at": {**_DELETED_AT, "$lt": before}}
        return [doc["_id"] for doc in self.collection.find(query, {"_id": True}).sort("deleted_at", 1).limit(limit)]

    @translated
    def unreadable_tombstones(self) -> list[str]:
        """What the documents with a ``deleted_at`` that are no tombstone of this API's lack (field names, never
        values): ``"_id: not a string"``, ``"deleted_at: not a date"``. Empty when there are none."""
        query = {
            "deleted_at": {"$ne": None},
            "$nor": [{"_id": {"$type": "string"}, **_TOMBSTONE}],
        }
        problems = set()
        for doc in self.collection.find(query, {"deleted_at": True}).limit(100):  # enough to name what they lack
            if not isinstance(doc["_id"], str):
                problems.add("_id: not a string")
            if not isinstance(doc.get("deleted_at"), datetime):
                problems.add("deleted_at: not a date")
        return sorted(problems)

    @translated
    def existing(self, user_ids: list[str]) -> set[str]:
        """Which of ``user_ids`` a user document names, live or tombstone, in any shape: by its ``_id`` (this
        API's users, and the seed's that ``make migrate-seed`` converted), or by the ``id`` of a document
        not in this API's shape (a seed user not converted yet, or left as a conflict or invalid; an
        ``id`` that is a list names every string in it)."""
        found = {doc["_id"] for doc in self.collection.find({"_id": {"$in": user_ids}}, {"_id": True})}
        missing = set(user_ids) - found
        if missing:
            query = {"_id": {"$not": {"$type": "string"}}, "id": {"$in": sorted(missing)}}
            for doc in self.collection.find(query, {"id": True}):
                named = doc.get("id")
                for name in named if isinstance(named, list) else [named]:
                    if isinstance(name, str) and name in missing:
                        found.add(name)
        return found

    @translated
    def remove_tombstone(self, user_id: str) -> bool:
        """Remove a tombstone, the last step of a deletion: the email can register again. True if removed now."""
        return self.collection.delete_one({"_id": user_id, **_TOMBSTONE}).deleted_count == 1
