"""The HTTP responses API Gateway makes: gateway responses, CORS preflights, proxy results."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from local_api.template import Cors, SamApi

JSON = "application/json"


@dataclass
class HttpResponse:
    """What goes back to the client."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


@dataclass(frozen=True)
class ErrorKind:
    """A gateway response type: its default status and message, and its DEFAULT_* family."""

    status: int
    message: str

    @property
    def family(self) -> str:
        return "DEFAULT_4XX" if self.status < 500 else "DEFAULT_5XX"


ERROR_KINDS: dict[str, ErrorKind] = {
    "MISSING_AUTHENTICATION_TOKEN": ErrorKind(403, "Missing Authentication Token"),
    "UNAUTHORIZED": ErrorKind(401, "Unauthorized"),
    "ACCESS_DENIED": ErrorKind(403, "User is not authorized to access this resource"),
    "AUTHORIZER_FAILURE": ErrorKind(500, "Authorizer error"),
    "AUTHORIZER_CONFIGURATION_ERROR": ErrorKind(500, "Authorizer configuration error"),
    # A crashed function or a malformed proxy result: API Gateway's 502, shaped by DEFAULT_5XX.
    "DEFAULT_5XX": ErrorKind(502, "Internal server error"),
}

_CONTEXT_VARIABLE = re.compile(r"\$(?:\{context\.([A-Za-z.]+)\}|context\.([A-Za-z][A-Za-z.]*[A-Za-z]))")


def render_response_template(text: str, variables: Mapping[str, str]) -> str:
    """A gateway response's ``ResponseTemplates`` entry with its ``$context.*`` variables substituted
    (unknown ones become empty, as in VTL)."""
    return _CONTEXT_VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), text)


def gateway_response(api: SamApi, kind: str, *, request_id: str, message: str | None = None) -> HttpResponse:
    """API Gateway's own error response of type ``kind``, as the template customises it."""
    default = ERROR_KINDS[kind]
    message = message or default.message
    custom = api.gateway_responses.get(kind) or api.gateway_responses.get(default.family)
    status = custom.status if custom is not None and custom.status is not None else default.status
    if custom is None or not custom.templates:
        body = json.dumps({"message": message})
        content_type = JSON
    else:
        content_type = JSON if JSON in custom.templates else next(iter(custom.templates))
        variables = {
            "error.messageString": json.dumps(message),
            "error.message": message,
            "error.responseType": kind,
            "requestId": request_id,
            "stage": api.stage,
        }
        body = render_response_template(custom.templates[content_type], variables)
    headers = [("Content-Type", content_type), *(custom.headers.items() if custom else ())]
    headers.append(("x-amzn-ErrorType", _error_type(kind)))
    return HttpResponse(status, headers, body.encode())


def _error_type(kind: str) -> str:
    return {
        "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
        "UNAUTHORIZED": "UnauthorizedException",
        "ACCESS_DENIED": "AccessDeniedException",
        "AUTHORIZER_FAILURE": "AuthorizerFailureException",
        "AUTHORIZER_CONFIGURATION_ERROR": "AuthorizerConfigurationException",
    }.get(kind, "InternalServerErrorException")


def preflight(cors: Cors) -> HttpResponse:
    """The answer of the mock OPTIONS method SAM adds for the API's ``Cors``."""
    headers = [("Content-Type", JSON), ("Access-Control-Allow-Origin", cors.allow_origin)]
    if cors.allow_headers:
        headers.append(("Access-Control-Allow-Headers", cors.allow_headers))
    if cors.allow_methods:
        headers.append(("Access-Control-Allow-Methods", cors.allow_methods))
    if cors.max_age:
        headers.append(("Access-Control-Max-Age", cors.max_age))
    if cors.allow_credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    return HttpResponse(200, headers, b"")


class InvalidProxyResponse(ValueError):
    """Raised when a function's result is not a Lambda proxy response."""


def _status(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidProxyResponse(f"statusCode must be an integer, got {value!r}")
    try:
        status = int(value)
    except ValueError:
        raise InvalidProxyResponse(f"statusCode must be an integer, got {value!r}") from None
    if not 100 <= status <= 599:
        raise InvalidProxyResponse(f"statusCode {status} is not an HTTP status")
    return status


def _headers(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise InvalidProxyResponse("headers and multiValueHeaders must be objects")
    headers: list[tuple[str, str]] = []
    for name, values in multi.items():
        if not isinstance(values, list):
            raise InvalidProxyResponse(f"multiValueHeaders[{name!r}] must be a list")
        headers.extend((str(name), _header_value(v)) for v in values)
    seen = {name.lower() for name, _ in headers}
    headers.extend((str(k), _header_value(v)) for k, v in single.items() if str(k).lower() not in seen)
    return headers


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list) or value is None:
        raise InvalidProxyResponse(f"header value {value!r} is not a string")
    return str(value)


def proxy_response(result: Any) -> HttpResponse:
    """The HTTP response a Lambda proxy result describes; InvalidProxyResponse if it is malformed."""
    if not isinstance(result, dict):
        raise InvalidProxyResponse(f"expected an object, got {type(result).__name__}")
    unknown = set(result) - {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
    if unknown:
        raise InvalidProxyResponse(f"unexpected keys {sorted(unknown)}")
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise InvalidProxyResponse(f"body must be a string, got {type(body).__name__}")
    raw = (body or "").encode()
    if result.get("isBase64Encoded") and body:
        try:
            raw = base64.b64decode(body, validate=True)
        except ValueError:
            raise InvalidProxyResponse("isBase64Encoded is true but body is not base64") from None
    headers = _headers(result)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", JSON))
    return HttpResponse(_status(result.get("statusCode")), headers, raw)
