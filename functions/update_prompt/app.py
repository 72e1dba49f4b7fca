"""PATCH /api/prompts/{prompt_id}: change the content or response of a prompt."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http.caller import CallerId
from shared.http.handler import observed
from shared.http.openapi import error_responses
from shared.http.resolver import create_app
from shared.prompts.models import PromptId, PromptPublic, PromptUpdate
from shared.prompts.prompts import PromptRepository

logger = Logger()
app = create_app("prompts", bearer=True)


@app.patch("/api/prompts/<prompt_id>", operation_id="updatePrompt", responses=error_responses(404))
def update_prompt(prompt_id: PromptId, update: PromptUpdate, user_id: CallerId) -> PromptPublic:
    """Update a prompt's content and/or response; `updated_at` moves. Only fields sent change."""
    return PromptRepository().update(user_id, prompt_id, update.fields_to_set())


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
