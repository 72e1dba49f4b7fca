"""POST /api/login: exchange email and password for a token pair of a new session."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.accounts.login import log_in
from shared.accounts.models import Token, UserLogin
from shared.http.caller import ClientAddress
from shared.http.handler import no_store, observed
from shared.http.openapi import error_responses
from shared.http.resolver import create_app

logger = Logger()
app = create_app("auth", tokens=True)


@app.post("/api/login", operation_id="login", responses=error_responses(401, 403, 429), middlewares=[no_store])
def login(credentials: UserLogin, client_address: ClientAddress) -> Token:
    """Log in.

    Starts a session: returns a bearer access token and a single-use refresh token. An unknown
    email and a wrong password get the same 401; an inactive account gets 403. After too many
    failed logins for one email, every login for it is a 429 until the window passes.
    """
    return log_in(credentials, client_address=client_address)


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
