"""The TOKEN authorizer: a valid bearer token of a live session of an existing, active user gets in.

On success it allows the whole API (every method and path of the stage), so that API
Gateway's cached result serves every route, and passes the user and the session on in
``context``. Anything else is API Gateway's 401 (the error message must be exactly
"Unauthorized"). It stays lean for its cold start: no REST resolver, no request models, no
bcrypt; one database round trip per invocation (the session with its user).
"""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    APIGatewayAuthorizerTokenEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.config import get_settings
from shared.errors import Unauthorized
from shared.metrics import Metric, count, metrics
from shared.sessions import caller_from_token
from shared.tokens import bearer_token

logger = Logger()
get_settings()  # a missing secret fails the container at start, naming the variable


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(log_event=False)
@event_source(data_class=APIGatewayAuthorizerTokenEvent)
def lambda_handler(event: APIGatewayAuthorizerTokenEvent, context: LambdaContext) -> dict:
    try:
        caller = caller_from_token(bearer_token(event.authorization_token))
    except Unauthorized:
        logger.info("Bearer token refused")
        count(Metric.AUTHORIZER_DENIED)
        raise Exception("Unauthorized") from None
    policy = APIGatewayAuthorizerResponse.from_route_arn(
        event.method_arn,
        principal_id=caller.user_id,
        context={
            "user_id": caller.user_id,
            "email": caller.email,
            "username": caller.username,
            "sid": caller.session_id,
        },
    )
    policy.allow_all_routes()
    return policy.asdict()
