"""GET /api/prompts/{prompt_id}: one of the caller's prompts."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http.caller import CallerId
from shared.http.handler import observed
from shared.http.openapi import error_responses
from shared.http.resolver import create_app
from shared.prompts.models import PromptId, PromptPublic
from shared.prompts.prompts import PromptRepository

logger = Logger()
app = create_app("prompts", bearer=True)


@app.get("/api/prompts/<prompt_id>", operation_id="getPrompt", responses=error_responses(404))
def get_prompt(prompt_id: PromptId, user_id: CallerId) -> PromptPublic:
    """Read one prompt. Another user's prompt is a 404, exactly like a missing one."""
    return PromptRepository().get(user_id, prompt_id)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
