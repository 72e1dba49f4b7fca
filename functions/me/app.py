"""GET /api/me: the caller's own account."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.accounts.models import UserPublic
from shared.accounts.users import UserRepository
from shared.http.caller import CallerId, signed_in
from shared.http.handler import observed
from shared.http.resolver import create_app

logger = Logger()
app = create_app("auth", bearer=True)


@app.get("/api/me", operation_id="getMe")
def me(user_id: CallerId) -> UserPublic:
    """The account the bearer token belongs to."""
    return signed_in(UserRepository().get(user_id))


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
