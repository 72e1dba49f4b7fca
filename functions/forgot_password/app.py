"""POST /api/password/forgot: mail a password-reset link, the same 202 for every email."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.accounts.forgot_password import request_password_reset, reset_mail_settings
from shared.accounts.models import PasswordForgot
from shared.http.caller import ClientAddress
from shared.http.handler import observed
from shared.http.openapi import error_responses
from shared.http.resolver import Response, create_app

logger = Logger()
app = create_app("auth")
reset_mail_settings()  # inside Lambda, a missing MAIL_FROM or PASSWORD_RESET_URL stops the function at start


@app.post("/api/password/forgot", status_code=202, operation_id="forgotPassword", responses=error_responses(429))
def forgot_password(request: PasswordForgot, client_address: ClientAddress) -> Response[None]:
    """Ask for a password reset.

    When the email belongs to an active account, a single-use link to choose a new password is mailed
    to it, valid for a limited time. Every email gets the same 202 with no body, registered or not. Too
    many requests within an hour, for one email or from one client address, are a 429.
    """
    request_password_reset(request.email, client_address=client_address)
    return Response(status_code=202)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
