"""POST /api/token/refresh: spend a refresh token for a new token pair of the same session."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.accounts.models import Token, TokenRefresh
from shared.accounts.refresh import refresh_session
from shared.http.handler import no_store, observed
from shared.http.openapi import error_responses
from shared.http.resolver import create_app

logger = Logger()
app = create_app("auth", tokens=True)


@app.post("/api/token/refresh", operation_id="refreshToken", responses=error_responses(401), middlewares=[no_store])
def refresh_token(data: TokenRefresh) -> Token:
    """Refresh the tokens.

    Returns a new access token and a new refresh token; the one sent is spent. Sent again within a
    short grace (30 s by default) and before its successor is used, it gets the same refresh token
    again; otherwise sending a spent refresh token ends its session. Unknown, expired, spent and ended
    tokens get the same 401.
    """
    return refresh_session(data)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
