"""DELETE /api/me: delete the caller's account, with their prompts and sessions."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.accounts.delete_account import delete_account
from shared.accounts.models import AccountDeletion
from shared.http.caller import CallerId, CallerSession, ClientAddress
from shared.http.handler import observed
from shared.http.openapi import error_responses
from shared.http.resolver import Response, create_app

logger = Logger()
app = create_app("auth", bearer=True)


@app.delete("/api/me", status_code=204, operation_id="deleteMe", responses=error_responses(400, 429))
def delete_me(
    confirmation: AccountDeletion, user_id: CallerId, session_id: CallerSession, client_address: ClientAddress
) -> Response[None]:
    """Delete your account.

    Needs your password (a wrong one is a 400). From then on the account is refused everywhere; its
    prompts, sessions and every other record of it are removed, and the email can register again.
    Retrying the same request after a failure finishes the deletion (204).
    """
    delete_account(user_id, session_id, confirmation, client_address=client_address)
    return Response(status_code=204)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
