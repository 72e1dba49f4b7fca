"""One request through "API Gateway": route, preflight, authorizer, function, proxy response."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass

from local_api.authorizer import TokenAuthorizers
from local_api.docs import ApiDocs
from local_api.events import HttpRequest, Stage, proxy_event
from local_api.responses import (
    HttpResponse,
    InvalidProxyResponse,
    gateway_response,
    preflight,
    proxy_response,
)
from local_api.routing import ANY, Match, Router
from local_api.runtime import FunctionRuntime
from local_api.template import IMPLICIT_API, Api, Application, Route

logger = logging.getLogger(__name__)

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Handled:
    """A response and what the request log says about it."""

    response: HttpResponse
    target: str  # the function's logical id, or what answered instead
    note: str = ""


def api_id(api: Api) -> str:
    """A stable, API Gateway-like id (10 characters) for an API of the template."""
    return hashlib.sha1(api.logical_id.encode(), usedforsecurity=False).hexdigest()[:10]


class Gateway:
    """Serves the template's routes the way API Gateway does."""

    def __init__(
        self,
        app: Application,
        runtime: FunctionRuntime,
        authorizers: TokenAuthorizers,
        *,
        region: str,
        account_id: str,
        docs: ApiDocs | None = None,
    ) -> None:
        self.app = app
        self.docs = docs
        self.runtime = runtime
        self.authorizers = authorizers
        self.router = Router(app.routes)
        self.stages = {name: Stage(api_id(api), api.stage, region, account_id) for name, api in app.apis.items()}
        served = [route.api for route in app.routes]
        self.default_api = served[0] if served else app.apis[IMPLICIT_API]
        runtime.on_reload(authorizers.clear)

    def shadowed_docs(self) -> list[str]:
        """The dev-only docs paths a template route matches (the template's function answers there)."""
        return [path for path in (self.docs.paths if self.docs else ()) if self.router.match(path) is not None]

    def handle(self, request: HttpRequest) -> Handled:
        """The response API Gateway would give ``request``."""
        request_id = str(uuid.uuid4())
        handled = self._route(request, request_id)
        handled.response.headers.append(("x-amzn-RequestId", request_id))
        return handled

    def _route(self, request: HttpRequest, request_id: str) -> Handled:
        match = self.router.match(request.path)
        if match is None:
            dev = self.docs.handle(request) if self.docs is not None else None
            if dev is not None:
                return Handled(dev, "local API docs")
            return self._error(self.default_api, "MISSING_AUTHENTICATION_TOKEN", request_id, "no route")
        route = match.resource.route_for(request.method)
        api = next(iter(match.resource.methods.values())).api
        if request.method == "OPTIONS" and (route is None or route.method == ANY) and api.cors is not None:
            return self._preflight(request, api, request_id)
        if route is None:
            return self._error(api, "MISSING_AUTHENTICATION_TOKEN", request_id, f"no {request.method} route")
        return self._call(request, route, match, request_id)

    def _preflight(self, request: HttpRequest, api: Api, request_id: str) -> Handled:
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
        try:
            result = self.runtime.invoke(
                route.function_id,
                event,
                request_id=request_id,
                may_write=request.method not in READ_ONLY_METHODS,
            )
            response = proxy_response(result)
        except InvalidProxyResponse as e:
            logger.error("%s returned an invalid Lambda proxy response: %s", route.function_id, e)
            return self._error(route.api, "DEFAULT_5XX", request_id, "invalid proxy response", target=route.function_id)
        except Exception:
            logger.exception("%s failed", route.function_id)
            return self._error(route.api, "DEFAULT_5XX", request_id, "function error", target=route.function_id)
        return Handled(response, route.function_id, note)

    def _authorize(
        self, request: HttpRequest, api: Api, name: str, request_id: str
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
        api: Api,
        kind: str,
        request_id: str,
        note: str,
        *,
        message: str | None = None,
        target: str = "API Gateway",
    ) -> Handled:
        return Handled(gateway_response(api, kind, request_id=request_id, message=message), target, note)
