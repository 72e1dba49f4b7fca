"""POST /api/password/reset: spend a mailed reset token for a new password, ending every session."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.accounts.models import PasswordReset
from shared.accounts.reset_password import reset_password
from shared.http.handler import observed
from shared.http.openapi import error_responses
from shared.http.resolver import Response, create_app

logger = Logger()
app = create_app("auth")


@app.post("/api/password/reset", status_code=204, operation_id="resetPassword", responses=error_responses(400))
def reset_my_password(reset: PasswordReset) -> Response[None]:
    """Reset your password with the mailed token.

    The new password is in force at once and every session of the account ends (log in again). The
    token works once: an invalid, expired, spent or voided token is a 400 (one message for all).
    """
    reset_password(reset)
    return Response(status_code=204)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
