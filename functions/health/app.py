"""GET /api/health: is the API up, and can it reach its database?"""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import __version__
from shared.data.ping import is_available
from shared.http.handler import observed
from shared.http.resolver import Response, content_types, create_app
from shared.status.models import Health

logger = Logger()
app = create_app("health")


@app.get(
    "/api/health",
    operation_id="getHealth",
    responses={
        200: {"description": "The API and its database are fine."},
        503: {"description": "The database cannot be reached.", "content": {"application/json": {"model": Health}}},
    },
)
def health() -> Response[Health]:
    """Health of the API and its database: 200 when both are fine, 503 when the database is unreachable."""
    if is_available():
        return Response(200, content_types.APPLICATION_JSON, Health(status="ok", database="ok", version=__version__))
    degraded = Health(status="degraded", database="unavailable", version=__version__, detail="Database unavailable")
    return Response(503, content_types.APPLICATION_JSON, degraded)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
