"""POST /api/prompts: store a prompt for the caller."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.api import CallerId, create_app
from shared.models import PromptCreate, PromptPublic
from shared.prompts import create_owned_prompt

logger = Logger()
app = create_app("prompts", bearer=True)


@app.post("/api/prompts", status_code=201, operation_id="createPrompt")
def create_prompt(prompt: PromptCreate, user_id: CallerId) -> PromptPublic:
    """Create a prompt, with an optional model response, owned by the caller."""
    return create_owned_prompt(user_id, prompt)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
