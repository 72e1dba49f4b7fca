"""What API Gateway and Lambda hand a function: the REST proxy event and the context object."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from local_api.template import Function, SamApi


@dataclass(frozen=True)
class HttpRequest:
    """An HTTP request as the server read it."""

    method: str
    path: str  # still percent-encoded, without the query string
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"
    server_port: int = 80
    received: float = field(default_factory=time.time)

    def header(self, name: str) -> str | None:
        """The last value of header ``name`` (case-insensitive), like API Gateway's ``headers``."""
        wanted = name.lower()
        return next((v for k, v in reversed(self.headers) if k.lower() == wanted), None)


def api_id(api: SamApi) -> str:
    """A stable, API Gateway-like id (10 characters) for an API of the template."""
    return hashlib.sha1(api.logical_id.encode(), usedforsecurity=False).hexdigest()[:10]


@dataclass(frozen=True)
class Stage:
    """Where the API "is deployed": the values ARNs and request contexts name."""

    api_id: str
    name: str
    region: str
    account_id: str

    def method_arn(self, method: str, path: str) -> str:
        """``arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}``."""
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}/{self.name}/{method}/{path[1:]}"


def _multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """API Gateway's single-value (last wins) and multi-value forms of repeated keys."""
    if not pairs:
        return None, None
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    return {k: v[-1] for k, v in multi.items()}, multi


def _body(request: HttpRequest, binary_media_types: tuple[str, ...]) -> tuple[str | None, bool]:
    """The body as text, or base64 when its type is binary for the API or it is not UTF-8."""
    if not request.body:
        return None, False
    content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    if not any(fnmatch.fnmatch(content_type, t.lower()) for t in binary_media_types):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode("ascii"), True


def _with_forwarding(request: HttpRequest) -> list[tuple[str, str]]:
    """The request's headers plus the ``X-Forwarded-*`` ones API Gateway adds."""
    present = {name.lower() for name, _ in request.headers}
    added = [
        (name, value)
        for name, value in (
            ("X-Forwarded-For", request.source_ip),
            ("X-Forwarded-Port", str(request.server_port)),
            ("X-Forwarded-Proto", "http"),
        )
        if name.lower() not in present
    ]
    return [*request.headers, *added]


def resource_id(path: str) -> str:
    """A stable short id per resource, like API Gateway's."""
    return hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()[:6]


def proxy_event(
    request: HttpRequest,
    *,
    resource: str,
    path_params: dict[str, str],
    stage: Stage,
    request_id: str,
    binary_media_types: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The REST API (v1) Lambda proxy event for ``request`` (``requestContext.authorizer`` added later)."""
    headers, multi_headers = _multi(_with_forwarding(request))
    query, multi_query = _multi(parse_qsl(request.query, keep_blank_values=True))
    body, is_base64 = _body(request, binary_media_types)
    path = unquote(request.path)
    host = request.header("Host") or "localhost"
    user_agent = request.header("User-Agent")
    received = datetime.fromtimestamp(request.received, UTC)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": resource_id(resource),
            "resourcePath": resource,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": received.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage.name}{path}",
            "accountId": stage.account_id,
            "protocol": request.protocol,
            "stage": stage.name,
            "domainPrefix": host.split(".")[0].split(":")[0],
            "requestTimeEpoch": int(request.received * 1000),
            "requestId": request_id,
            "identity": _identity(request.source_ip, user_agent),
            "domainName": host.split(":")[0],
            "apiId": stage.api_id,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _identity(source_ip: str, user_agent: str | None) -> dict[str, Any]:
    keys = (
        "cognitoIdentityPoolId",
        "accountId",
        "cognitoIdentityId",
        "caller",
        "principalOrgId",
        "accessKey",
        "cognitoAuthenticationType",
        "cognitoAuthenticationProvider",
        "userArn",
        "user",
    )
    return {**dict.fromkeys(keys), "sourceIp": source_ip, "userAgent": user_agent}


class LocalLambdaContext:
    """The context object the Lambda runtime passes to a handler (what Powertools types as ``LambdaContext``)."""

    def __init__(self, function: Function, *, region: str, account_id: str, request_id: str | None = None) -> None:
        self.function_name = function.logical_id
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function.logical_id}"
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.logical_id}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + function.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's configured timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))
