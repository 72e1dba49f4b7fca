"""The TOKEN authorizer: a valid bearer token of an existing, active user gets in.

On success it allows the whole API (every method and path of the stage), so that API
Gateway's cached result serves every route, and passes the user on in ``context``.
Anything else is API Gateway's 401 (the error message must be exactly "Unauthorized").
"""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    APIGatewayAuthorizerTokenEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.auth import bearer_token, user_from_token
from shared.config import get_settings
from shared.errors import Unauthorized

logger = Logger()
get_settings()  # a missing secret fails the container at start, naming the variable


@logger.inject_lambda_context
@event_source(data_class=APIGatewayAuthorizerTokenEvent)
def lambda_handler(event: APIGatewayAuthorizerTokenEvent, context: LambdaContext) -> dict:
    try:
        user = user_from_token(bearer_token(event.authorization_token))
    except Unauthorized:
        logger.info("Bearer token refused")
        raise Exception("Unauthorized") from None
    policy = APIGatewayAuthorizerResponse.from_route_arn(
        event.method_arn,
        principal_id=user.id,
        context={"user_id": user.id, "email": user.email, "username": user.username},
    )
    policy.allow_all_routes()
    return policy.asdict()
