"""DELETE /api/prompts/{prompt_id}: remove one of the caller's prompts."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http.caller import CallerId
from shared.http.handler import observed
from shared.http.openapi import error_responses
from shared.http.resolver import Response, create_app
from shared.prompts.models import PromptId
from shared.prompts.prompts import PromptRepository

logger = Logger()
app = create_app("prompts", bearer=True)


@app.delete("/api/prompts/<prompt_id>", status_code=204, operation_id="deletePrompt", responses=error_responses(404))
def delete_prompt(prompt_id: PromptId, user_id: CallerId) -> Response[None]:
    """Delete a prompt. Another user's prompt is a 404, exactly like a missing one."""
    PromptRepository().delete(user_id, prompt_id)
    return Response(status_code=204)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
