"""POST /api/me/password: change the caller's password, ending every earlier session."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.accounts.change_password import change_password
from shared.accounts.models import PasswordChange, Token
from shared.http.caller import CallerId, CallerSession, ClientAddress
from shared.http.handler import no_store, observed
from shared.http.openapi import error_responses
from shared.http.resolver import create_app

logger = Logger()
app = create_app("auth", bearer=True, tokens=True)


@app.post(
    "/api/me/password", operation_id="changePassword", responses=error_responses(400, 429), middlewares=[no_store]
)
def change_my_password(
    change: PasswordChange, user_id: CallerId, session_id: CallerSession, client_address: ClientAddress
) -> Token:
    """Change your password.

    Every earlier session of the account ends (on every device); returns the token pair of a new
    session. A wrong current password, or a new password equal to it, is a 400. The same request
    retried shortly after (a lost answer) completes the change and returns the same new session.
    """
    return change_password(user_id, session_id, change, client_address=client_address)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
