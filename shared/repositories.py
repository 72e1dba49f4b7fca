"""Data access for users, prompts and status checks.

Documents keep the UUID in ``_id``; models expose it as ``id``. Every method is wrapped in
``shared.db.translated``, which turns "cannot reach the database" driver errors into
ServiceUnavailable (``shared.db`` does the same for its index creation and health ping); the
one driver error with a meaning of its own, a duplicate email, becomes Conflict here.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from pymongo import DESCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from shared.db import Document, get_database, translated
from shared.errors import Conflict, InvalidInput, NotFound
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


def utcnow() -> datetime:
    """Now, truncated to the millisecond that BSON dates keep."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


_last_ms = 0
_sequence = 0


def new_id() -> str:
    """A UUIDv7 (RFC 9562): time-ordered, so ids made by one container sort in creation order.

    Within one millisecond the 12-bit ``rand_a`` field counts up; that ordering is what
    breaks ties between items with equal timestamps in a page.
    """
    global _last_ms, _sequence
    now_ms = time.time_ns() // 1_000_000
    if now_ms > _last_ms:
        _last_ms, _sequence = now_ms, 0
    elif _sequence < 0xFFF:
        _sequence += 1
    else:
        _last_ms, _sequence = _last_ms + 1, 0
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (_last_ms << 80) | (0x7 << 76) | (_sequence << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


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
