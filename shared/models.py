"""Request and response models, one family per entity: Create / Update / Public.

Request models forbid unknown fields, so a client can never set ``id``, ``user_id`` or a
timestamp, and their string fields accept only strings (an operator object such as
``{"$ne": null}`` is a 422, never a query). The password hash exists only in storage.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

MAX_CONTENT_CHARS = 100_000
BCRYPT_MAX_BYTES = 72

_EMAIL = re.compile(
    r"^(?=.{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("value is not a valid email address")
    return value.lower()


def _password_fits_bcrypt(value: str) -> str:
    if len(value.encode()) > BCRYPT_MAX_BYTES:
        raise ValueError(f"password must be at most {BCRYPT_MAX_BYTES} bytes in UTF-8")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254),
    AfterValidator(_email),
    Field(
        description="Email address; stored and compared in lower case.",
        examples=["ada@example.com"],
        json_schema_extra={"format": "email"},
    ),
]
Password = Annotated[
    str,
    StringConstraints(min_length=8, max_length=BCRYPT_MAX_BYTES),
    AfterValidator(_password_fits_bcrypt),
    Field(description="8 characters to 72 bytes in UTF-8.", examples=["correct horse battery"], repr=False),
]
GivenPassword = Annotated[
    str,
    StringConstraints(min_length=1, max_length=1024),
    Field(description="The account's password.", examples=["correct horse battery"], repr=False),
]
"""A password the client gives to prove who they are (checked against the hash, never stored)."""
Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    Field(description="Display name.", examples=["ada"]),
]
Content = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_CONTENT_CHARS),
    AfterValidator(_not_blank),
    Field(description="The prompt text.", examples=["Summarise this article in three bullet points."]),
]
ModelResponse = Annotated[
    str,
    StringConstraints(max_length=MAX_CONTENT_CHARS),
    Field(description="The model's answer, if any.", examples=["1. ... 2. ... 3. ..."]),
]
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc), Field(description="ISO 8601, UTC.")]
Id = Annotated[str, Field(description="UUID.", examples=["0b5f4c1e-8c1e-4a55-9e39-3f6f8f0b8a10"])]


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


class UserCreate(RequestModel):
    # Any letter case registers; the email is stored (and logged in with) in lower case.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "Ada@Example.com", "username": "ada", "password": "correct horse battery"}]
        }
    )

    email: Email
    username: Username
    password: Password


class UserLogin(RequestModel):
    email: Email
    password: GivenPassword


class UserUpdate(RequestModel):
    """Only the username can change here; any other field (email, password, is_active...) is a 422."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"username": "ada lovelace"}]})

    username: Username


class PasswordChange(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"current_password": "correct horse battery", "new_password": "battery staple horse"}]
        }
    )

    current_password: GivenPassword
    new_password: Password


class AccountDeletion(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"password": "correct horse battery"}]})

    password: GivenPassword


class TokenRefresh(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"refresh_token": "3q2-7wEXAMPLEr4nd0m-t0k3n"}]})

    refresh_token: Annotated[
        str,
        StringConstraints(min_length=1, max_length=512),
        Field(description="The `refresh_token` of the last login or refresh.", repr=False),
    ]


class UserPublic(ApiModel):
    id: Id
    email: str
    username: str
    created_at: UtcDatetime
    is_active: bool


class UserInDB(UserPublic):
    hashed_password: str


class Token(ApiModel):
    """An access token and the refresh token of its session."""

    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.", repr=False)
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int = Field(description="Lifetime of the access token in seconds.", examples=[3600])
    refresh_token: str = Field(
        description="Single use: `POST /api/token/refresh` spends it for a new pair.", repr=False
    )
    refresh_expires_in: int = Field(description="Lifetime of the refresh token in seconds.", examples=[2592000])


class PromptCreate(RequestModel):
    content: Content
    response: ModelResponse | None = None


class PromptUpdate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"response": "1. ... 2. ... 3. ..."}]})

    content: Content | SkipJsonSchema[None] = None  # may be left out, never null (documented so)
    response: ModelResponse | None = Field(default=None, description="Send null to clear the response.")

    @model_validator(mode="after")
    def _check_fields(self) -> PromptUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of content, response")
        if "content" in self.model_fields_set and self.content is None:
            raise ValueError("content cannot be null")
        return self

    def fields_to_set(self) -> dict[str, str | None]:
        """The fields the client actually sent, with their new values (``None`` clears ``response``)."""
        return self.model_dump(include=self.model_fields_set)


class PromptPublic(ApiModel):
    id: Id
    user_id: Id
    content: str
    response: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


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


ItemT = TypeVar("ItemT", bound=BaseModel)


class Page(ApiModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class Health(ApiModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    version: str
    detail: str | None = Field(
        default=None, description="Why the API is degraded; absent when it is not.", exclude_if=lambda v: v is None
    )
