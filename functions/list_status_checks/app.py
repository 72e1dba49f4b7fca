"""GET /api/status: recorded status checks, newest first, a page at a time."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http.handler import observed
from shared.http.resolver import create_app
from shared.models import DEFAULT_PAGE_SIZE, Cursor, Limit, Page
from shared.status.models import StatusCheckPublic
from shared.status.status_checks import StatusCheckRepository

logger = Logger()
app = create_app("status")


@app.get("/api/status", operation_id="listStatusChecks")
def list_status_checks(limit: Limit = DEFAULT_PAGE_SIZE, cursor: Cursor = None) -> Page[StatusCheckPublic]:
    """List status checks, newest first; follow `next_cursor` for the next page."""
    return StatusCheckRepository().list(limit=limit, cursor=cursor)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
