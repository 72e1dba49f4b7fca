"""One request through "API Gateway": route, preflight, authorizer, function, proxy response.

The tool's own pages (the API docs, say) plug in as :class:`ExtraRoutes`, wired by ``cli.py``:
the gateway asks them only where no route of the template matches, and knows nothing else
about them.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from local_api.authorizer import TokenAuthorizers
from local_api.events import HttpRequest, Stage, api_id, proxy_event
from local_api.responses import (
    HttpResponse,
    InvalidProxyResponse,
    gateway_response,
    preflight,
    proxy_response,
)
from local_api.routing import ANY, Match, Router
from local_api.runtime import FunctionRuntime
from local_api.template import IMPLICIT_API, Application, Route, SamApi

logger = logging.getLogger(__name__)

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LAMBDA_REQUEST_LIMIT = 6_291_456
"""Lambda's synchronous invocation payload limit for the event, in bytes (6 MiB)."""
LAMBDA_RESPONSE_LIMIT = 6_291_556
"""Lambda's limit for a synchronous response (its error message names 6,291,556 bytes)."""


def request_too_long() -> HttpResponse:
    """What API Gateway answers when the event is over Lambda's limit: Lambda refuses the invocation,
    and the gateway sends this fixed body, which no gateway response of the template shapes."""
    return HttpResponse(413, [("Content-Type", "application/json")], b'{"message": "Request Too Long"}')


def lambda_payload_bytes(payload: object) -> int:
    """The bytes of ``payload`` as JSON, as Lambda's Python runtime serializes a result (python3.12+:
    ``ensure_ascii=False``, default separators); an event is measured the same way."""
    return len(json.dumps(payload, ensure_ascii=False).encode())


class ExtraRoutes(Protocol):
    """Paths the tool answers itself, next to the template's routes."""

    @property
    def label(self) -> str:
        """What the request log names as the target of these paths."""
        ...

    @property
    def paths(self) -> Sequence[str]:
        """Every path it may answer (for the start banner: which ones the template shadows)."""
        ...

    def handle(self, request: HttpRequest) -> HttpResponse | None:
        """The response to ``request``, or None when it is not one of these routes."""
        ...


@dataclass(frozen=True)
class Handled:
    """A response and what the request log says about it."""

    response: HttpResponse
    target: str  # the function's logical id, or what answered instead
    note: str = ""


class Gateway:
    """Serves the template's routes the way API Gateway does."""

    def __init__(
        self,
        application: Application,
        runtime: FunctionRuntime,
        authorizers: TokenAuthorizers,
        *,
        region: str,
        account_id: str,
        extra_routes: Sequence[ExtraRoutes] = (),
    ) -> None:
        self.application = application
        self.extra_routes = tuple(extra_routes)
        self.runtime = runtime
        self.authorizers = authorizers
        self.router = Router([*application.routes, *application.preflights])
        self.stages = {
            name: Stage(api_id(api), api.stage, region, account_id) for name, api in application.apis.items()
        }
        served = [route.api for route in application.routes]
        self.default_api = served[0] if served else application.apis[IMPLICIT_API]
        runtime.on_reload(authorizers.clear)

    def shadowed(self, paths: Iterable[str]) -> list[str]:
        """Those of ``paths`` a template route matches: there the template's function answers."""
        return [path for path in paths if self.router.match(path) is not None]

    def handle(self, request: HttpRequest) -> Handled:
        """The response API Gateway would give ``request``."""
        request_id = str(uuid.uuid4())
        handled = self._route(request, request_id)
        handled.response.headers.append(("x-amzn-RequestId", request_id))
        return handled

    def _route(self, request: HttpRequest, request_id: str) -> Handled:
        match = self.router.match(request.path)
        if match is None:
            for extra in self.extra_routes:
                response = extra.handle(request)
                if response is not None:
                    return Handled(response, extra.label)
            return self._error(self.default_api, "MISSING_AUTHENTICATION_TOKEN", request_id, "no route")
        route = match.resource.route_for(request.method)
        api = next(iter(match.resource.methods.values())).api
        if request.method == "OPTIONS" and (route is None or route.method == ANY) and api.cors is not None:
            return self._preflight(request, api, request_id)
        if route is None:
            return self._error(api, "MISSING_AUTHENTICATION_TOKEN", request_id, f"no {request.method} route")
        return self._call(request, route, match, request_id)

    def _preflight(self, request: HttpRequest, api: SamApi, request_id: str) -> Handled:
        assert api.cors is not None
        if api.authorize_preflight and api.default_authorizer is not None:
            denied = self._authorize(request, api, api.default_authorizer, request_id)
            if isinstance(denied, Handled):
                return denied
        return Handled(preflight(api.cors), "CORS preflight")

    def _call(self, request: HttpRequest, route: Route, match: Match, request_id: str) -> Handled:
        stage = self.stages[route.api.logical_id]
        event = proxy_event(
            request,
            resource=route.path,
            path_params=match.params,
            stage=stage,
            request_id=request_id,
            binary_media_types=route.api.binary_media_types,
        )
        note = ""
        if route.authorizer is not None:
            verdict = self._authorize(request, route.api, route.authorizer, request_id)
            if isinstance(verdict, Handled):
                return verdict
            event["requestContext"]["authorizer"], note = verdict
        event_bytes = lambda_payload_bytes(event)
        if event_bytes > LAMBDA_REQUEST_LIMIT:
            logger.error(
                "%s not invoked: its event is %d bytes, over Lambda's %d",
                route.function_id,
                event_bytes,
                LAMBDA_REQUEST_LIMIT,
            )
            return Handled(request_too_long(), route.function_id, "event over Lambda's limit")
        try:
            result = self.runtime.invoke(
                route.function_id,
                event,
                request_id=request_id,
                may_write=request.method not in READ_ONLY_METHODS,
            )
            response = proxy_response(result)
            result_bytes = lambda_payload_bytes(result)
            if result_bytes > LAMBDA_RESPONSE_LIMIT:
                logger.error(
                    "%s returned %d bytes, over Lambda's %d: API Gateway answers 502",
                    route.function_id,
                    result_bytes,
                    LAMBDA_RESPONSE_LIMIT,
                )
                return self._error(
                    route.api, "DEFAULT_5XX", request_id, "response over Lambda's limit", target=route.function_id
                )
        except InvalidProxyResponse as e:
            logger.error("%s returned an invalid Lambda proxy response: %s", route.function_id, e)
            return self._error(route.api, "DEFAULT_5XX", request_id, "invalid proxy response", target=route.function_id)
        except Exception:
            logger.exception("%s failed", route.function_id)
            return self._error(route.api, "DEFAULT_5XX", request_id, "function error", target=route.function_id)
        return Handled(response, route.function_id, note)

    def _authorize(
        self, request: HttpRequest, api: SamApi, name: str, request_id: str
    ) -> tuple[dict[str, object], str] | Handled:
        """The authorizer context and log note, or the gateway response refusing the request."""
        authorizer = api.authorizers[name]
        method_arn = self.stages[api.logical_id].method_arn(request.method, request.path)

        def invoke(event: dict[str, object]) -> object:
            return self.runtime.invoke(authorizer.function_id, dict(event), request_id=request_id, may_write=False)

        outcome = self.authorizers.authorize(authorizer, request.header(authorizer.header), method_arn, invoke)
        note = f"{name}: {outcome.note}"
        if outcome.error is not None:
            return self._error(api, outcome.error, request_id, note, message=outcome.message)
        assert outcome.context is not None
        return outcome.context, note

    def _error(
        self,
        api: SamApi,
        kind: str,
        request_id: str,
        note: str,
        *,
        message: str | None = None,
        target: str = "API Gateway",
    ) -> Handled:
        return Handled(gateway_response(api, kind, request_id=request_id, message=message), target, note)
