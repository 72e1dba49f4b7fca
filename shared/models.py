"""What every domain's models build on: the base classes, ids and times, errors and pages, and the
query parameters of a listing.

Request models forbid unknown fields, so a client can never set ``id``, ``user_id`` or a
timestamp, and their string fields accept only strings (an operator object such as
``{"$ne": null}`` is a 422, never a query). A domain's own models are in its package
(``shared.accounts.models``, ``shared.prompts.models``, ``shared.status.models``).

The model modules do without ``from __future__ import annotations``: pydantic then takes each field's
annotation as the object it is instead of evaluating its text, which every cold start would pay for.
"""

from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def not_blank(value: str) -> str:
    """A validator: the string has something besides whitespace."""
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc), Field(description="ISO 8601, UTC.")]
Id = Annotated[str, Field(description="UUID.", examples=["0b5f4c1e-8c1e-4a55-9e39-3f6f8f0b8a10"])]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page.")]


class ApiModel(BaseModel):
    """Base of every model here: its validator and serializer are built on first use, not at import.

    A function imports all the models but touches two or three, and building one costs about a
    millisecond of every cold start (``defer_build``; the schemas and the OpenAPI document are the same).
    """

    model_config = ConfigDict(defer_build=True)


class ErrorDetail(ApiModel):
    detail: str = Field(description="What went wrong.", examples=["Prompt not found"])


class RequestModel(ApiModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


ItemT = TypeVar("ItemT", bound=BaseModel)


class Page(ApiModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
