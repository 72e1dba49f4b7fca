"""Documents as models, and pages of a collection: newest first, continued by an opaque cursor.

A page fits Lambda: a synchronous Lambda response is at most 6 MB (6,291,556 bytes), and the body of
an API Gateway proxy response travels inside it as a JSON string, escaped a second time (each ``"``
and ``\\`` gains a backslash). So a page holds at most ``limit`` items, at most ``PAGE_MAX_BYTES`` of
body as the client receives it, and at most ``RESPONSE_MAX_BYTES`` of body as it travels in the
Lambda response, each item measured the way the resolver serializes it (Powertools: ``json.dumps``
with compact separators and ``ensure_ascii``, so an emoji is 12 bytes of body and 14 in the Lambda
response; a ``"`` is 2 and 4). The largest item (100,000 emoji of content and of response) is
2.4 MB of body and 2.8 MB of response, so every page holds at least one, and two of them fit.

Documents this API did not write (the seed's, with an ObjectId ``_id``; anything malformed) are never
an error: reading one as a model gives None, with a warning naming the collection and the fields at
fault, never their values. A page reads only documents with a string ``_id`` and a date (the seed's
are left out by the query itself, so a database full of them costs nothing; the first page a
container reads of a collection that has some says so once), and skips any other it cannot read.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pymongo import DESCENDING
from pymongo.collection import Collection

from shared.data.client import Document
from shared.errors import InvalidInput
from shared.models import Page

logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

PAGE_MAX_BYTES = 5_000_000
"""The most body a page sends the client (DESIGN.md: at most 5 MB)."""
RESPONSE_MAX_BYTES = 6_000_000
"""The most a page's body may take inside the Lambda response, escaped as a JSON string: under
Lambda's 6,291,556 bytes, with the rest left for the status, the headers and the proxy fields."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_LONGEST_CURSOR = 128  # encode_cursor's output is under 100 characters; Cursor allows 512 when read


def to_model(model: type[ModelT], doc: Document) -> ModelT:
    """``doc``, a document this API just wrote, as ``model``: its ``_id`` becomes ``id``."""
    fields = {k: v for k, v in doc.items() if k != "_id"}
    return model.model_validate({**fields, "id": doc["_id"]})


def from_document(model: type[ModelT], doc: Document, *, collection: str) -> ModelT | None:
    """A stored document as ``model``, or None (and a warning) when it is not one this API wrote:
    an ``_id`` that is not a string (the seed's ObjectId), a missing or mistyped field."""
    _id = doc.get("_id")
    if not isinstance(_id, str):
        reason = f"_id of type {type(_id).__name__}, not a string"
    else:
        try:
            return to_model(model, doc)
        except ValidationError as e:
            reason = ", ".join(f"{'.'.join(map(str, err['loc']))}: {err['type']}" for err in e.errors())
    logger.warning("Skipped a %s document this API cannot read (%s)%s", collection, reason, _MIGRATE_HINT)
    return None


_MIGRATE_HINT = "; `make migrate-seed` converts the seed's documents"
_checked_for_seed: set[str] = set()


def forget_seed_checks() -> None:
    """Check every collection for the seed's documents again (a fresh container; for tests)."""
    _checked_for_seed.clear()


def _warn_once_of_seed_documents(collection: Collection[Document]) -> None:
    """Once per container and collection: a warning if it holds documents with an ObjectId ``_id``
    (the seed's), which pages leave out: one query for one document, by ``_id`` type."""
    if collection.full_name in _checked_for_seed:
        return
    _checked_for_seed.add(collection.full_name)
    if collection.find_one({"_id": {"$type": "objectId"}}, {"_id": True}) is not None:
        logger.warning(
            "%s holds documents with an ObjectId _id, left out of its pages%s", collection.name, _MIGRATE_HINT
        )


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


def response_bytes(body: str) -> int:
    """The bytes a JSON ``body`` (ASCII, as ``ensure_ascii`` writes it) takes in a Lambda proxy
    response, where it is a JSON string: each ``"`` and ``\\`` gains a backslash."""
    return len(body) + body.count('"') + body.count("\\")


def item_json(item: BaseModel) -> str:
    """``item`` as the resolver writes it in a response body (Powertools' default serializer)."""
    return json.dumps(item.model_dump(mode="json"), separators=(",", ":"))


_ENVELOPE = json.dumps({"items": [], "next_cursor": "c" * _LONGEST_CURSOR}, separators=(",", ":"))


def paginate(
    collection: Collection[Document],
    query: dict[str, Any],
    *,
    time_field: str,
    limit: int,
    cursor: str | None,
    model: type[ModelT],
    max_body: int = PAGE_MAX_BYTES,
    max_response: int = RESPONSE_MAX_BYTES,
) -> Page[ModelT]:
    """Newest first, ties broken by id: at most ``limit`` items, ``max_body`` bytes of body and
    ``max_response`` bytes of body in the Lambda response.

    Documents are read in order until the page is full and one more item exists (so ``next_cursor``
    is null on the last page); ``next_cursor`` points just after the last item returned, so the
    next page starts with the first one left out, whether the page stopped at ``limit`` or at a
    size. Only documents with a string ``_id`` and a date are read (a cursor can only point at
    those); any of them that is not an item is skipped (``from_document``).
    """
    _warn_once_of_seed_documents(collection)
    query = {**query, "_id": {"$type": "string"}, time_field: {"$type": "date"}}
    if cursor:  # an empty cursor (`?cursor=`) asks for the first page
        when, item_id = decode_cursor(cursor)
        query["$or"] = [{time_field: {"$lt": when}}, {time_field: when, "_id": {"$lt": item_id}}]
    found = collection.find(query).sort([(time_field, DESCENDING), ("_id", DESCENDING)]).batch_size(limit + 1)
    try:
        budget = (max_body - len(_ENVELOPE), max_response - response_bytes(_ENVELOPE))
        items, last, more = _fill(found, model, collection.name, limit=limit, budget=budget)
    finally:
        found.close()
    next_cursor = encode_cursor(last[time_field], last["_id"]) if more and last is not None else None
    return Page[model](items=items, next_cursor=next_cursor)  # type: ignore[valid-type]


def _fill(
    docs: Iterable[Document], model: type[ModelT], collection: str, *, limit: int, budget: tuple[int, int]
) -> tuple[list[ModelT], Document | None, bool]:
    """The items of a page from ``docs`` in order, the document of the last one, and whether any
    item is left after it. ``budget``: bytes of body and of response the items may use."""
    items: list[ModelT] = []
    last: Document | None = None
    body = response = 0
    for doc in docs:
        item = from_document(model, doc, collection=collection)
        if item is None:
            continue
        text = item_json(item)
        comma = 1 if items else 0
        item_body, item_response = len(text) + comma, response_bytes(text) + comma
        if len(items) == limit or (items and (body + item_body > budget[0] or response + item_response > budget[1])):
            return items, last, True
        items.append(item)
        last, body, response = doc, body + item_body, response + item_response
    return items, last, False
