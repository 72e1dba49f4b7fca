"""The one error mapping: every error a function raises or Powertools reports becomes a
``{"detail": ...}`` response here and only here, so no handler catches anything and no stack trace
reaches a client."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError

from shared.errors import ApiError, TooManyRequests, Unauthorized
from shared.http.bodies import has_non_json_body
from shared.http.contract import RETRY_AFTER_HEADER

logger = Logger(child=True)


def detail_response(status: int, detail: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    """The one error shape of the API: ``{"detail": ...}``."""
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"detail": detail}, separators=(",", ":")),
        headers=headers,
    )


def _validation_detail(errors: Any) -> list[dict[str, Any]]:
    # loc/msg/type only: pydantic's "input" would echo what the client sent, passwords included.
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", "Invalid value"), "type": e.get("type", "value_error")}
        for e in errors
    ]


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(ApiError)
    def api_error(e: ApiError) -> Response[Any]:
        headers: dict[str, str] | None = None
        if isinstance(e, Unauthorized):
            headers = {"WWW-Authenticate": "Bearer"}
        elif isinstance(e, TooManyRequests):
            headers = {RETRY_AFTER_HEADER: str(e.retry_after)}
        return detail_response(e.status_code, e.detail, headers)

    @app.exception_handler([RequestValidationError, RequestUnsupportedContentType])
    def invalid_request(e: RequestValidationError) -> Response[Any]:
        if has_non_json_body(app.current_event):
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
        if has_non_json_body(app.current_event):
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
