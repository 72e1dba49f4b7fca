"""The TOKEN authorizer: a valid bearer token of a live session of an existing, active user gets in.

On success it allows the whole API (every method and path of the stage), so that API
Gateway's cached result serves every route, and passes the user and the session on in
``context``; a session that may only retry the account deletion or password change it made is
allowed that one route. Anything else is API Gateway's 401 (the error message must be exactly
"Unauthorized"). It stays lean for its cold start: no REST resolver, no request models, no
bcrypt, and no Powertools event data classes (importing them loads every event source's class,
about a tenth of this function's init; the event has two fields and the policy is one statement);
one database round trip per invocation (the session with its user).
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.accounts.access_tokens import bearer_token
from shared.accounts.authorize import caller_from_token
from shared.coldstart import initialized
from shared.config import database_settings, token_settings
from shared.errors import ServiceUnavailable, Unauthorized
from shared.http.contract import CONTEXT_SESSION_ID, CONTEXT_USER_ID, RETRY_ROUTES
from shared.metrics import Metric, count, metrics

logger = Logger()
# The value template.yaml's DatabaseUnavailableMetricFilter counts in the log field "failure".
DATABASE_UNAVAILABLE = "database_unavailable"
token_settings()  # a missing secret fails the container at start, naming the variable
database_settings()  # so does a missing database inside Lambda


def allow_whole_stage(
    method_arn: str, *, principal_id: str, context: dict[str, str], only: tuple[str, str] | None = None
) -> dict[str, Any]:
    """An IAM policy allowing every method and path of ``method_arn``'s API stage (with ``only``, a
    ``(method, path)``, just that route).

    ``method_arn`` is ``arn:aws:execute-api:{region}:{account}:{api id}/{stage}/{method}/{path}``.
    """
    stage_arn = "/".join(method_arn.split("/", 2)[:2])
    resource = f"{stage_arn}/*/*" if only is None else f"{stage_arn}/{only[0]}{only[1]}"
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [resource]}],
        },
        "context": context,
    }


def requested_route(method_arn: str) -> tuple[str, str]:
    """The ``(method, path)`` a method ARN asks for: ``(GET, /api/me)`` of ``.../{stage}/GET/api/me``."""
    _, _, method, path = [*method_arn.split("/", 3), "", ""][:4]
    return method, f"/{path}"


@initialized
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        caller = caller_from_token(bearer_token(event.get("authorizationToken")))
        only = RETRY_ROUTES[caller.only_retry] if caller.only_retry else None
        if only is not None and requested_route(event["methodArn"]) != only:
            raise Unauthorized()  # a session that may only retry one route is refused everywhere else
    except Unauthorized:
        logger.info("Bearer token refused")
        count(Metric.AUTHORIZER_DENIED)
        raise Exception("Unauthorized") from None
    except ServiceUnavailable:
        # Raised on to API Gateway (503 AUTHORIZER_FAILURE); this line lets FunctionErrorsAlarm tell an
        # unreachable database from a fault of the code (template.yaml, DatabaseUnavailableMetricFilter).
        logger.warning("Database unavailable", extra={"failure": DATABASE_UNAVAILABLE})
        raise
    return allow_whole_stage(
        event["methodArn"],
        principal_id=caller.user_id,
        context={CONTEXT_USER_ID: caller.user_id, CONTEXT_SESSION_ID: caller.session_id},
        only=only,
    )
