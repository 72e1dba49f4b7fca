"""Data access for users, prompts, status checks and login attempts (sessions: ``shared.sessions``).

Documents keep the UUID in ``_id``; models expose it as ``id``. Every method is wrapped in
``shared.db.translated``, which turns "cannot reach the database" driver errors into
ServiceUnavailable (``shared.db`` does the same for its index creation and health ping); the
one driver error with a meaning of its own, a duplicate email, becomes Conflict here.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from pymongo import DESCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from shared.db import Document, get_database, translated
from shared.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from shared.ids import new_id, utcnow
from shared.models import (
    Page,
    PromptCreate,
    PromptPublic,
    StatusCheckPublic,
    UserInDB,
    UserPublic,
)

ModelT = TypeVar("ModelT", bound=BaseModel)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def _to_model(model: type[ModelT], doc: Document) -> ModelT:
    fields = {k: v for k, v in doc.items() if k != "_id"}
    return model.model_validate({"id": doc["_id"], **fields})


def encode_cursor(when: datetime, item_id: str) -> str:
    """An opaque cursor pointing just after the item (``when``, ``item_id``)."""
    raw = json.dumps([(when - _EPOCH) // _MILLISECOND, item_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor points at; InvalidInput (422) when it was not made by us."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        millis, item_id = json.loads(raw)
        if not isinstance(millis, int) or isinstance(millis, bool) or not isinstance(item_id, str):
            raise ValueError(cursor)
        return _EPOCH + millis * _MILLISECOND, item_id
    except (ValueError, TypeError, binascii.Error, OverflowError):
        raise InvalidInput("invalid cursor", loc=("query", "cursor")) from None


def _paginate(
    collection: Collection[Document],
    query: dict[str, Any],
    *,
    time_field: str,
    limit: int,
    cursor: str | None,
    model: type[ModelT],
) -> Page[ModelT]:
    """Newest first, ties broken by id; one extra document tells whether a next page exists."""
    if cursor:  # an empty cursor (`?cursor=`) asks for the first page
        when, item_id = decode_cursor(cursor)
        query = {
            **query,
            "$or": [{time_field: {"$lt": when}}, {time_field: when, "_id": {"$lt": item_id}}],
        }
    docs = list(collection.find(query).sort([(time_field, DESCENDING), ("_id", DESCENDING)]).limit(limit + 1))
    next_cursor = encode_cursor(docs[limit - 1][time_field], docs[limit - 1]["_id"]) if len(docs) > limit else None
    return Page[model](items=[_to_model(model, d) for d in docs[:limit]], next_cursor=next_cursor)  # type: ignore[valid-type]


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
        return _to_model(UserPublic, doc)

    @translated
    def get_by_email(self, email: str) -> UserInDB | None:
        doc = self.collection.find_one({"email": email})
        return None if doc is None else _to_model(UserInDB, doc)

    @translated
    def get(self, user_id: str) -> UserPublic | None:
        doc = self.collection.find_one({"_id": user_id}, {"hashed_password": False})
        return None if doc is None else _to_model(UserPublic, doc)

    @translated
    def get_with_hash(self, user_id: str) -> UserInDB | None:
        """The user with their password hash, to check a password they give again."""
        doc = self.collection.find_one({"_id": user_id})
        return None if doc is None else _to_model(UserInDB, doc)

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
        return None if doc is None else _to_model(UserPublic, doc)

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


class PromptRepository:
    """Every method is scoped to one owner: another user's prompt is simply not found."""

    def __init__(self) -> None:
        self.collection = get_database().prompts

    @translated
    def create(self, user_id: str, data: PromptCreate) -> PromptPublic:
        now = utcnow()
        doc = {"_id": new_id(), "user_id": user_id, **data.model_dump(), "created_at": now, "updated_at": now}
        self.collection.insert_one(doc)
        return _to_model(PromptPublic, doc)

    @translated
    def list(self, user_id: str, *, limit: int, cursor: str | None) -> Page[PromptPublic]:
        return _paginate(
            self.collection,
            {"user_id": user_id},
            time_field="created_at",
            limit=limit,
            cursor=cursor,
            model=PromptPublic,
        )

    @translated
    def get(self, user_id: str, prompt_id: str) -> PromptPublic:
        doc = self.collection.find_one({"_id": prompt_id, "user_id": user_id})
        if doc is None:
            raise NotFound("Prompt not found")
        return _to_model(PromptPublic, doc)

    @translated
    def update(self, user_id: str, prompt_id: str, changes: dict[str, Any]) -> PromptPublic:
        doc = self.collection.find_one_and_update(
            {"_id": prompt_id, "user_id": user_id},
            {"$set": {**changes, "updated_at": utcnow()}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise NotFound("Prompt not found")
        return _to_model(PromptPublic, doc)

    @translated
    def delete(self, user_id: str, prompt_id: str) -> None:
        if self.collection.delete_one({"_id": prompt_id, "user_id": user_id}).deleted_count == 0:
            raise NotFound("Prompt not found")

    @translated
    def delete_all(self, user_id: str) -> int:
        """Remove every prompt of the user; the number removed."""
        return self.collection.delete_many({"user_id": user_id}).deleted_count


class StatusCheckRepository:
    def __init__(self) -> None:
        self.collection = get_database().status_checks

    @translated
    def create(self, client_name: str) -> StatusCheckPublic:
        doc = {"_id": new_id(), "client_name": client_name, "timestamp": utcnow()}
        self.collection.insert_one(doc)
        return _to_model(StatusCheckPublic, doc)

    @translated
    def list(self, *, limit: int, cursor: str | None) -> Page[StatusCheckPublic]:
        return _paginate(
            self.collection, {}, time_field="timestamp", limit=limit, cursor=cursor, model=StatusCheckPublic
        )


class LoginAttemptRepository:
    """Failed-login counts per (normalised) email, each in a window that ends at ``expires_at``.

    A TTL index removes a document once its window has passed; until the TTL monitor runs (about
    once a minute) an expired document is treated as absent.
    """

    _MAX_TRIES = 5

    def __init__(self) -> None:
        self.collection = get_database().login_attempts

    @translated
    def reserve(self, email: str, *, window: timedelta, now: datetime | None = None) -> tuple[int, datetime]:
        """Count one more attempt for ``email``, atomically: the count including this one, and when the
        window ends. Done before the password is checked, so concurrent attempts each get their own number."""
        now = now or utcnow()
        for _ in range(self._MAX_TRIES):
            doc = self.collection.find_one_and_update(
                {"_id": email, "expires_at": {"$gt": now}},
                {"$inc": {"count": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None:
                return int(doc["count"]), _as_utc(doc["expires_at"])
            fresh = {"count": 1, "expires_at": now + window}
            try:
                self.collection.insert_one({"_id": email, **fresh})
                return 1, now + window
            except DuplicateKeyError:
                # A concurrent first attempt (then the $inc above wins next time round), or an expired
                # window the TTL monitor has not removed yet: start a new window in its place.
                replaced = self.collection.replace_one({"_id": email, "expires_at": {"$lte": now}}, fresh)
                if replaced.modified_count == 1:
                    return 1, now + window
        raise ServiceUnavailable("Too much contention on login attempts")

    @translated
    def clear(self, email: str) -> None:
        """Forget the attempts of ``email`` (after a login that proved the password)."""
        self.collection.delete_one({"_id": email})


def seconds_until(when: datetime, *, now: datetime | None = None) -> int:
    """Whole seconds (rounded up, at least 1) from ``now`` until ``when``: a ``Retry-After`` value."""
    return max(1, math.ceil((when - (now or utcnow())).total_seconds()))


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
