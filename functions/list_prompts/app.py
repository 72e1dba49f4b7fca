"""GET /api/prompts: the caller's prompts, newest first, a page at a time."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http.caller import CallerId
from shared.http.handler import observed
from shared.http.resolver import create_app
from shared.models import DEFAULT_PAGE_SIZE, Cursor, Limit, Page
from shared.prompts.models import PromptPublic
from shared.prompts.prompts import PromptRepository

logger = Logger()
app = create_app("prompts", bearer=True)


@app.get("/api/prompts", operation_id="listPrompts")
def list_prompts(user_id: CallerId, limit: Limit = DEFAULT_PAGE_SIZE, cursor: Cursor = None) -> Page[PromptPublic]:
    """List the caller's own prompts, newest first.

    Follow `next_cursor` until it is null to walk every prompt exactly once.
    """
    return PromptRepository().list(user_id, limit=limit, cursor=cursor)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
