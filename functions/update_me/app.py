"""PATCH /api/me: change the caller's username."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.accounts.models import UserPublic, UserUpdate
from shared.accounts.users import UserRepository
from shared.http.caller import CallerId, signed_in
from shared.http.handler import observed
from shared.http.resolver import create_app

logger = Logger()
app = create_app("auth", bearer=True)


@app.patch("/api/me", operation_id="updateMe")
def update_me(update: UserUpdate, user_id: CallerId) -> UserPublic:
    """Change your username.

    Only `username` can change here; any other field is a 422.
    """
    return signed_in(UserRepository().update_username(user_id, update.username))


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
