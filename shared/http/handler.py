"""What wraps a function's handler and its responses: the logging and metrics context of every HTTP
function, and the no-store middleware of responses that carry tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.coldstart import init_done
from shared.metrics import metrics


def no_store(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Route middleware for responses that carry a token: no cache may keep them (RFC 6749, 5.1)."""
    response = next_middleware(app)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
"""A Lambda entry point: the event and the context in, the proxy response out."""


def observed(logger: Logger) -> Callable[[LambdaHandler], LambdaHandler]:
    """The Powertools context every HTTP function's ``lambda_handler`` runs in: the Lambda context
    and API Gateway's request id (the correlation id) on each log line, never the raw event (it
    holds passwords and tokens, whatever POWERTOOLS_LOGGER_LOG_EVENT says), and the request's
    metrics flushed at the end, with the cold start on a container's first invocation. Decorating the
    handler, the last statement of a function's init, ends that init (``shared.coldstart.init_done``)."""

    def decorate(handler: LambdaHandler) -> LambdaHandler:
        init_done()
        logged = logger.inject_lambda_context(
            handler, correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False
        )
        return metrics.log_metrics(logged, capture_cold_start_metric=True)

    return decorate
