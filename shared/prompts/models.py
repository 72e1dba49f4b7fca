"""The prompts' request and response models, the prompt id of a path and the idempotency key of a create."""

from typing import Annotated, Self

from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

from shared.http.idempotency import HEADER, KEY_PATTERN
from shared.models import ApiModel, Id, RequestModel, UtcDatetime, not_blank

MAX_CONTENT_CHARS = 100_000

Content = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_CONTENT_CHARS),
    AfterValidator(not_blank),
    Field(description="The prompt text.", examples=["Summarise this article in three bullet points."]),
]
ModelResponse = Annotated[
    str,
    StringConstraints(max_length=MAX_CONTENT_CHARS),
    Field(description="The model's answer, if any.", examples=["1. ... 2. ... 3. ..."]),
]
PromptId = Annotated[str, Path(description="The prompt's `id`.", examples=["3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"])]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="1 to 255 printable ASCII characters. The same key and body within 24 hours answers the "
        "first request's prompt and stores nothing new, even while the first request still runs or after it "
        "failed halfway; another body is a 422.",
        json_schema_extra={"minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
    ),
]
"""The optional ``Idempotency-Key`` header of ``POST /api/prompts`` (checked by ``shared.http.idempotency``)."""


class PromptCreate(RequestModel):
    content: Content
    response: ModelResponse | None = None


class PromptUpdate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"response": "1. ... 2. ... 3. ..."}]})

    content: Content | SkipJsonSchema[None] = None  # may be left out, never null (documented so)
    response: ModelResponse | None = Field(default=None, description="Send null to clear the response.")

    @model_validator(mode="after")
    def _check_fields(self) -> Self:
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
