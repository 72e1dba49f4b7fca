"""POST /api/token/refresh: spend a refresh token for a new token pair of the same session."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.api import create_app, error_responses, no_store, observed
from shared.auth import refresh_token_pair
from shared.models import Token, TokenRefresh

logger = Logger()
app = create_app("auth")


@app.post("/api/token/refresh", operation_id="refreshToken", responses=error_responses(401), middlewares=[no_store])
def refresh_token(data: TokenRefresh) -> Token:
    """Refresh the tokens.

    Returns a new access token and a new refresh token; the one sent is spent. Sending a spent
    refresh token again ends its session. Unknown, expired, spent and ended tokens get the same 401.
    """
    return refresh_token_pair(data)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
