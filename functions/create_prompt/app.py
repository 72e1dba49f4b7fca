"""POST /api/prompts: store a prompt for the caller."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http.caller import CallerId
from shared.http.handler import observed
from shared.http.idempotency import checked_key
from shared.http.resolver import create_app
from shared.prompts.create_prompt import create_owned_prompt, create_prompt_once
from shared.prompts.models import IdempotencyKey, PromptCreate, PromptPublic

logger = Logger()
app = create_app("prompts", bearer=True)


@app.post("/api/prompts", status_code=201, operation_id="createPrompt")
def create_prompt(prompt: PromptCreate, user_id: CallerId, idempotency_key: IdempotencyKey = None) -> PromptPublic:
    """Create a prompt, with an optional model response, owned by the caller."""
    if idempotency_key is None:
        return create_owned_prompt(user_id, prompt)
    return create_prompt_once(user_id, prompt, key=checked_key(idempotency_key))


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
