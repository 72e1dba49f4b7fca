"""POST /api/prompts: store a prompt for the caller."""

import re
from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.errors import InvalidInput
from shared.http.caller import CallerId
from shared.http.handler import observed
from shared.http.openapi import error_responses
from shared.http.resolver import create_app
from shared.prompts.create_prompt import create_owned_prompt
from shared.prompts.models import PromptCreate, PromptPublic

logger = Logger()
app = create_app("prompts", bearer=True)

KEY_PATTERN = r"^[\x20-\x7e]{1,255}$"
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="1 to 255 printable ASCII characters. The same key and body within 24 hours replays "
        "the first response and stores nothing new; another body is a 422; while the first request with "
        "the key still runs, a 409.",
        json_schema_extra={"minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
    ),
]


@app.post("/api/prompts", status_code=201, operation_id="createPrompt", responses=error_responses(409))
def create_prompt(prompt: PromptCreate, user_id: CallerId, idempotency_key: IdempotencyKey = None) -> PromptPublic:
    """Create a prompt, with an optional model response, owned by the caller."""
    if idempotency_key is None:
        return create_owned_prompt(user_id, prompt)
    if not re.fullmatch(KEY_PATTERN, idempotency_key):
        raise InvalidInput("Must be 1 to 255 printable ASCII characters", loc=("header", "Idempotency-Key"))
    from shared.http.idempotency import run_once  # imported only by requests with a key (cold start)

    return run_once(
        lambda: create_owned_prompt(user_id, prompt),
        model=PromptPublic,
        scope="create_prompt",
        user_id=user_id,
        key=idempotency_key,
        body=prompt,
        context=app.lambda_context,
    )


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
