"""POST /api/logout: end the caller's current session."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.accounts.logout import log_out
from shared.http.caller import CallerId, CallerSession
from shared.http.handler import observed
from shared.http.resolver import Response, create_app

logger = Logger()
app = create_app("auth", bearer=True)


@app.post("/api/logout", status_code=204, operation_id="logout")
def logout(user_id: CallerId, session_id: CallerSession) -> Response[None]:
    """Log out.

    Ends the session of the bearer token: its refresh token and its access tokens stop working.
    """
    log_out(user_id, session_id)
    return Response(status_code=204)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
