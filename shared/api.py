"""What every HTTP function shares: the resolver, CORS, the caller, and the error mapping.

Errors become ``{"detail": ...}`` responses here and only here, so no handler catches
anything and no stack trace reaches a client.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Annotated, Any, TypeVar, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.config import get_settings
from shared.errors import ApiError, TooManyRequests, Unauthorized
from shared.metrics import metrics
from shared.models import ErrorDetail, UserPublic

logger = Logger(child=True)

AnyCallableT = TypeVar("AnyCallableT", bound=Callable[..., Any])

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page.")]
PromptId = Annotated[str, Path(description="The prompt's `id`.", examples=["3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"])]


def detail_response(status: int, detail: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    """The one error shape of the API: ``{"detail": ...}``."""
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"detail": detail}, separators=(",", ":")),
        headers=headers,
    )


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json_body(text: str) -> Any:
    """The request body as JSON; ``json.JSONDecodeError`` (a 422) for anything else.

    Beyond syntax errors, that is: nesting too deep for the parser, an integer too long to
    convert, ``NaN``/``Infinity`` (not JSON), and lone surrogates (valid escapes, but no string
    that can be stored). Each would otherwise escape as a 500.
    """
    try:
        value = json.loads(text, parse_constant=_no_constant)
        if _SURROGATE_ESCAPE.search(text):
            json.dumps(value, ensure_ascii=False).encode()  # UnicodeEncodeError on a lone surrogate
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as e:
        raise json.JSONDecodeError(f"Unparsable JSON ({type(e).__name__})", text, 0) from None
    return value


def _lowercase_media_type(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """``event`` with its Content-Type's media type in lower case (Powertools compares it as is)."""
    headers = event.get("headers") or {}
    for name, value in headers.items():
        if name.lower() == "content-type" and isinstance(value, str):
            media_type, separator, parameters = value.partition(";")
            if media_type != media_type.lower():
                return {**event, "headers": {**headers, name: media_type.lower() + separator + parameters}}
    return event


def _validation_detail(errors: Any) -> list[dict[str, Any]]:
    # loc/msg/type only: pydantic's "input" would echo what the client sent, passwords included.
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", "Invalid value"), "type": e.get("type", "value_error")}
        for e in errors
    ]


def _has_non_json_body(event: BaseProxyEvent) -> bool:
    content_type = event.headers.get("content-type") or ""  # Powertools headers are case-insensitive
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not event.body or not media_type:
        return False
    return media_type != "application/json" and not media_type.endswith("+json")


def _register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(ApiError)
    def api_error(e: ApiError) -> Response[Any]:
        headers: dict[str, str] | None = None
        if isinstance(e, Unauthorized):
            headers = {"WWW-Authenticate": "Bearer"}
        elif isinstance(e, TooManyRequests):
            headers = {"Retry-After": str(e.retry_after)}
        return detail_response(e.status_code, e.detail, headers)

    @app.exception_handler([RequestValidationError, RequestUnsupportedContentType])
    def invalid_request(e: RequestValidationError) -> Response[Any]:
        if _has_non_json_body(app.current_event):
            return _not_json()
        return detail_response(HTTPStatus.UNPROCESSABLE_ENTITY, _validation_detail(e.errors()))

    @app.exception_handler(ServiceError)  # Powertools' own, including its "no such route" 404
    def service_error(e: ServiceError) -> Response[Any]:
        detail = e.msg if e.status_code != HTTPStatus.NOT_FOUND else "Not Found"
        return detail_response(e.status_code, detail)

    @app.exception_handler(Exception)
    def unexpected(e: Exception) -> Response[Any]:
        return _internal_error()

    @app.exception_handler(ValueError)
    def unparsable_body(e: ValueError) -> Response[Any]:
        # Powertools parses the body before validating it, and some bodies make that fail with a bare
        # ValueError: multipart without a boundary, bytes that are not UTF-8 (sent base64-encoded).
        # They are the client's 415 (not JSON) or 422 (not UTF-8, so not JSON text), never a 500.
        if _has_non_json_body(app.current_event):
            return _not_json()
        if isinstance(e, UnicodeDecodeError):
            invalid = [{"loc": ["body"], "msg": "The body is not valid UTF-8", "type": "json_invalid"}]
            return detail_response(HTTPStatus.UNPROCESSABLE_ENTITY, invalid)
        return _internal_error()


def _not_json() -> Response[Any]:
    return detail_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json")


def _internal_error() -> Response[Any]:
    logger.exception("Unhandled error")
    return detail_response(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error")


_ERROR_DESCRIPTIONS = {
    400: "The request cannot be done as asked (a wrong current password, a new password equal to the old).",
    401: "Missing, invalid or expired bearer token, or wrong credentials.",
    403: "The account is inactive.",
    404: "Not found, or not the caller's.",
    409: "Conflicts with existing data (a registered email), or a request with this Idempotency-Key still runs.",
    429: "Too many failed logins for this email; wait the `Retry-After` header's seconds.",
    503: "The database cannot be reached.",
}

BEARER_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]
"""The ``security`` of the routes behind the JWT authorizer (the scheme is in the merged document)."""


def error_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses for the ``{"detail": "..."}`` errors a route can answer with, beyond the
    ones every route of its resolver has (see ``DocumentedResolver``). Powertools adds 422 itself."""
    responses: dict[int, OpenAPIResponse] = {}
    for status in statuses:
        responses[status] = {
            "description": _ERROR_DESCRIPTIONS[status],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorDetail}},
        }
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            responses[status]["headers"] = {
                "Retry-After": {"description": "Seconds until the login window passes.", "schema": {"type": "integer"}}
            }
    return responses


_ROUTE = inspect.signature(APIGatewayRestResolver.route)


class DocumentedResolver(APIGatewayRestResolver):
    """The REST resolver of a function, documenting what its routes share so each states only its own:
    the summary and description from the route's docstring, the function's tag, the bearer scheme and
    401 behind the authorizer, the 503 of an unreachable database, and the success response of
    ``status_code`` (its schema from the return type)."""

    def __init__(self, *, tag: str, bearer: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tag = tag
        self.bearer = bearer

    def route(self, *args: Any, **kwargs: Any) -> Callable[[AnyCallableT], AnyCallableT]:
        # app.get/post/... call route() with positional arguments: bind them to their names.
        options = _ROUTE.bind(self, *args, **kwargs).arguments
        del options["self"]

        def register(func: AnyCallableT) -> AnyCallableT:
            first, _, rest = (inspect.getdoc(func) or "").partition("\n")
            options["summary"] = options.get("summary") or first.strip() or None
            options["description"] = options.get("description") or rest.strip() or None
            options["tags"] = options.get("tags") or [self.tag]
            if self.bearer:
                options["security"] = options.get("security") or BEARER_AUTH
            errors = {**error_responses(*self._shared_errors()), **(options.get("responses") or {})}
            success = {int(options.get("status_code", HTTPStatus.OK)): {"description": "Successful Response"}}
            options["responses"] = {**success, **dict(sorted(errors.items()))}
            return super(DocumentedResolver, self).route(**options)(func)

        return register

    def _shared_errors(self) -> tuple[int, ...]:
        return (
            (HTTPStatus.UNAUTHORIZED, HTTPStatus.SERVICE_UNAVAILABLE)
            if self.bearer
            else (HTTPStatus.SERVICE_UNAVAILABLE,)
        )

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Media types are case-insensitive (RFC 9110): ``Application/JSON`` is JSON too."""
        return super().resolve(_lowercase_media_type(event), context)


def create_app(tag: str, *, bearer: bool = False) -> DocumentedResolver:
    """A REST API resolver with validation, the configured CORS origins and the error mapping, for
    routes documented under ``tag`` and, with ``bearer``, behind the JWT authorizer.

    Reading the settings here makes a missing secret an error at start, naming the variable.
    """
    origins = get_settings().cors_allow_origins
    cors = CORSConfig(
        allow_origin=origins[0],
        extra_origins=list(origins[1:]),
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        expose_headers=["Retry-After"],
        max_age=600,
    )
    app = DocumentedResolver(
        tag=tag,
        bearer=bearer,
        cors=cors,
        enable_validation=True,
        response_validation_error_http_code=500,
        json_body_deserializer=parse_json_body,
    )
    _register_error_handlers(app)
    return app


def caller_id(request: Request) -> str:
    """The user id the authorizer put in the request context; never read from the client."""
    event = cast(APIGatewayProxyEvent, request.resolved_event)
    authorizer = event.request_context.authorizer
    user_id = authorizer.get("user_id") or authorizer.principal_id
    if not user_id:
        raise Unauthorized()
    return str(user_id)


CallerId = Annotated[str, Depends(caller_id)]


def signed_in(user: UserPublic | None) -> UserPublic:
    """The caller's account; a 401 when it is gone (deleted after the authorizer let the token in)."""
    if user is None:
        raise Unauthorized()
    return user


def caller_session(request: Request) -> str:
    """The session id the authorizer put in the request context (the access token's ``sid``)."""
    event = cast(APIGatewayProxyEvent, request.resolved_event)
    session_id = event.request_context.authorizer.get("sid")
    if not session_id:
        raise Unauthorized()
    return str(session_id)


CallerSession = Annotated[str, Depends(caller_session)]


def no_store(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Route middleware for responses that carry a token: no cache may keep them (RFC 6749, 5.1)."""
    response = next_middleware(app)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def observed(logger: Logger) -> Callable[[Handler], Handler]:
    """The Powertools context every HTTP function's ``lambda_handler`` runs in: the Lambda context
    and API Gateway's request id (the correlation id) on each log line, never the raw event (it
    holds passwords and tokens, whatever POWERTOOLS_LOGGER_LOG_EVENT says), and the request's
    metrics flushed at the end, with the cold start on a container's first invocation."""

    def decorate(handler: Handler) -> Handler:
        logged = logger.inject_lambda_context(
            handler, correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False
        )
        return metrics.log_metrics(logged, capture_cold_start_metric=True)

    return decorate
