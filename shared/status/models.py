"""Status checks and the health report."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.models import ApiModel, Id, RequestModel, UtcDatetime


class StatusCheckCreate(RequestModel):
    client_name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        Field(description="Who is checking in.", examples=["web-frontend"]),
    ]


class StatusCheckPublic(ApiModel):
    id: Id
    client_name: str
    timestamp: UtcDatetime


class Health(ApiModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    version: str
    detail: str | None = Field(
        default=None, description="Why the API is degraded; absent when it is not.", exclude_if=lambda v: v is None
    )
