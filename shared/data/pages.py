"""Documents as models, and pages of a collection: newest first, continued by an opaque cursor."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from pymongo import DESCENDING
from pymongo.collection import Collection

from shared.data.client import Document
from shared.errors import InvalidInput
from shared.models import Page

ModelT = TypeVar("ModelT", bound=BaseModel)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def to_model(model: type[ModelT], doc: Document) -> ModelT:
    """``doc`` as ``model``: its ``_id`` becomes ``id``."""
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


def paginate(
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
    return Page[model](items=[to_model(model, d) for d in docs[:limit]], next_cursor=next_cursor)  # type: ignore[valid-type]
