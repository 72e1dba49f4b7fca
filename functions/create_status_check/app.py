"""POST /api/status: record that a client checked in."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http.handler import observed
from shared.http.resolver import create_app
from shared.status.models import StatusCheckCreate, StatusCheckPublic
from shared.status.status_checks import StatusCheckRepository

logger = Logger()
app = create_app("status")


@app.post("/api/status", status_code=201, operation_id="createStatusCheck")
def create_status_check(check: StatusCheckCreate) -> StatusCheckPublic:
    """Record a status check for a named client."""
    return StatusCheckRepository().create(check.client_name)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
