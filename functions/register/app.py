"""POST /api/register: create an account."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.accounts.models import UserCreate, UserPublic
from shared.accounts.register import register_user
from shared.http.caller import ClientAddress
from shared.http.handler import observed
from shared.http.openapi import error_responses
from shared.http.resolver import create_app

logger = Logger()
app = create_app("auth")


@app.post("/api/register", status_code=201, operation_id="register", responses=error_responses(409, 429))
def register(user: UserCreate, client_address: ClientAddress) -> UserPublic:
    """Register a user.

    The email is stored in lower case and must be unique in any letter case (409 otherwise). The same
    request retried within 24 hours (a lost answer) answers 201 with the account it created. That retry
    checks the password, so it counts like a login: after too many wrong passwords for the email it is
    a 429 until the window passes.
    """
    return register_user(user, client_address=client_address)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
