"""The REST resolver every HTTP function builds: validation, CORS, the error mapping and the
OpenAPI details its routes share; and what a route may return besides a model (``Response``,
``content_types``), so that a function imports nothing of Powertools' event handler before ``shared``
(whose import defers the event handler package's ``__init__``: ``shared.coldstart``)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.event_handler import Response as Response
from aws_lambda_powertools.event_handler import content_types as content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.config import database_settings, http_settings, password_settings, token_settings
from shared.http.bodies import lowercase_media_type, parse_json_body
from shared.http.contract import ALLOWED_METHODS, ALLOWED_REQUEST_HEADERS, EXPOSED_RESPONSE_HEADERS
from shared.http.errors import register_error_handlers
from shared.http.openapi import BEARER_AUTH, error_responses

AnyCallableT = TypeVar("AnyCallableT", bound=Callable[..., Any])

PREFLIGHT_MAX_AGE_S = 600
"""How long a browser may keep a preflight's answer."""

_ROUTE = inspect.signature(APIGatewayRestResolver.route)


class DocumentedResolver(APIGatewayRestResolver):
    """The REST resolver of a function, documenting what its routes share so each states only its own:
    the summary and description from the route's docstring, the function's tag, the bearer scheme and
    401 behind the authorizer, the 503 of an unreachable database, and the success response of
    ``status_code`` (its schema from the return type)."""

    def __init__(self, *, tag: str, bearer: bool, vary_origin: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tag = tag
        self.bearer = bearer
        self.vary_origin = vary_origin

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
        """Media types are case-insensitive (RFC 9110): ``Application/JSON`` is JSON too.

        Where only some origins are allowed, the CORS headers depend on the request's ``Origin``
        (Powertools names that origin, or none), so every response says ``Vary: Origin``: a shared
        cache must not hand one origin's answer to another.
        """
        response = super().resolve(lowercase_media_type(event), context)
        if self.vary_origin:
            response.setdefault("multiValueHeaders", {}).setdefault("Vary", []).append("Origin")
        return response


def cors_config() -> CORSConfig:
    """The CORS of every response: the configured origins (CORS_ALLOW_ORIGINS), the headers a browser
    may send and read, a preflight kept 10 minutes."""
    origins = http_settings().cors_allow_origins
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=list(origins[1:]),
        allow_headers=list(ALLOWED_REQUEST_HEADERS),
        expose_headers=list(EXPOSED_RESPONSE_HEADERS),
        max_age=PREFLIGHT_MAX_AGE_S,
    )


def varies_by_origin() -> bool:
    """Whether the CORS headers depend on the request's ``Origin`` (only some origins are allowed)."""
    return "*" not in http_settings().cors_allow_origins


def preflight(event: Mapping[str, Any]) -> dict[str, Any]:
    """The proxy response to a CORS preflight (PreflightFunction, OPTIONS on every path): 204 with the
    request's own origin when it is allowed ("*" when any is) and every method and header the API
    accepts, or no CORS header at all; ``Vary: Origin`` where only some origins are allowed. It reads
    the HTTP settings only: no database, no secret."""
    cors = cors_config()
    headers = {str(name).lower(): value for name, value in (event.get("headers") or {}).items()}
    requested = headers.get("origin")
    origin = cors.allowed_origin(requested) if requested else None
    allowed = cors.to_dict(origin) if origin is not None else {}
    if allowed:
        allowed["Access-Control-Allow-Methods"] = ",".join(ALLOWED_METHODS)
    multi = {name: [value] for name, value in allowed.items()}
    if varies_by_origin():
        multi["Vary"] = ["Origin"]
    return {"statusCode": HTTPStatus.NO_CONTENT.value, "multiValueHeaders": multi, "body": "", "isBase64Encoded": False}


def create_app(tag: str, *, bearer: bool = False, tokens: bool = False) -> DocumentedResolver:
    """A REST API resolver with validation, the configured CORS origins and the error mapping, for
    routes documented under ``tag`` and, with ``bearer``, behind the JWT authorizer; ``tokens`` says
    that the routes sign access tokens.

    It runs at init (module level, once per container), so what it checks stops a misconfigured
    function at start, with a message naming the variable. It reads every settings group that holds
    no secret a function may do without: the HTTP settings (the resolver is built with their CORS
    origins), the password settings, and the database settings, since every route of this API reads
    the database (inside Lambda a missing URI stops it there; outside Lambda they require nothing).
    The token settings hold the JWT secret, which only routes that sign tokens need: those pass
    ``tokens``, and their settings are checked at start inside Lambda. Outside Lambda they are left to
    the first token, because the OpenAPI generator imports every function to read its routes, runs
    none, and needs no secret; a ``tokens`` route without one then fails there, with the same message.
    """
    database = database_settings()
    password_settings()
    if tokens and database.in_lambda:
        token_settings()
    app = DocumentedResolver(
        tag=tag,
        bearer=bearer,
        cors=cors_config(),
        vary_origin=varies_by_origin(),
        enable_validation=True,
        response_validation_error_http_code=500,
        json_body_deserializer=parse_json_body,
    )
    register_error_handlers(app)
    return app
