"""POST /api/prompts: store a prompt for the caller."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http.caller import CallerId
from shared.http.handler import observed
from shared.http.idempotency import HEADER, KEY_PATTERN, checked_key
from shared.http.resolver import create_app
from shared.prompts.create_prompt import create_owned_prompt, create_prompt_once
from shared.prompts.models import PromptCreate, PromptPublic

logger = Logger()
app = create_app("prompts", bearer=True)

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


@app.post("/api/prompts", status_code=201, operation_id="createPrompt")
def create_prompt(prompt: PromptCreate, user_id: CallerId, idempotency_key: IdempotencyKey = None) -> PromptPublic:
    """Create a prompt, with an optional model response, owned by the caller."""
    if idempotency_key is None:
        return create_owned_prompt(user_id, prompt)
    return create_prompt_once(user_id, prompt, key=checked_key(idempotency_key))


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
