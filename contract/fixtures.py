"""The event fixtures ``events/*.json``, generated from the template and the OpenAPI document.

Each ``Api`` event of each function becomes ``events/<folder>.json`` (``<folder>`` is the
function's ``CodeUri`` folder), built by the local API's own event builder (``local_api.events``)
with fixed ids and times, so the output only changes when the API does. What a request carries
comes from ``docs/openapi.json``: the body is the request model's example (the model's own
``examples``, else every required field's first example), path parameters are their examples and
query parameters their defaults. Routes behind an authorizer carry a bearer header and the
``requestContext.authorizer`` the authorizer gives a known user, so ``sam local invoke -e``
runs them. Each TOKEN authorizer gets ``events/<folder>.json`` too, with a placeholder token.

``python -m contract.fixtures`` writes them (``make events``); ``--check`` fails when a
committed fixture differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from contract.openapi import DOCUMENT
from contract.project import CONTEXT_SESSION_ID, CONTEXT_USER_ID
from local_api.authorizer import Policy
from local_api.environment import DEFAULT_REGION, LOCAL_ACCOUNT_ID
from local_api.events import HttpRequest, Stage, api_id, proxy_event
from local_api.template import Application, Route, load_application

EVENTS_DIR = Path("events")
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
RECEIVED = 1795694400.0  # 2026-11-26T12:00:00Z
SOURCE_IP = "203.0.113.10"  # TEST-NET-3 (RFC 5737)
USER_AGENT = "curl/8.5.0"
TOKEN_PLACEHOLDER = "Bearer <token>"  # noqa: S105 - a placeholder the authorizer refuses
AUTHORIZER_LATENCY_MS = 120
# The caller of protected routes, as the authorizer puts them in the request context.
CALLER_ID = "9b2f6c1d-4e3a-4b5c-8d7e-6f5a4b3c2d1e"
CALLER_SESSION_ID = "019ac5e0-7a2b-7c3d-8e4f-5a6b7c8d9e0f"
CALLER_CONTEXT = {CONTEXT_USER_ID: CALLER_ID, CONTEXT_SESSION_ID: CALLER_SESSION_ID}


class FixtureError(ValueError):
    """Raised when the OpenAPI document lacks an example a fixture needs."""


@dataclass(frozen=True)
class Fixture:
    """One event file: where it goes and what it holds."""

    path: Path
    event: dict[str, Any]

    def render(self) -> str:
        return json.dumps(self.event, indent=2, ensure_ascii=False) + "\n"


def _stage(route: Route) -> Stage:
    return Stage(api_id(route.api), route.api.stage, DEFAULT_REGION, LOCAL_ACCOUNT_ID)


def _resolve(document: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """``schema`` with a ``$ref`` to ``#/components/schemas/...`` followed."""
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    resolved: Mapping[str, Any] = document["components"]["schemas"][ref.rpartition("/")[2]]
    return resolved


def example_body(document: Mapping[str, Any], schema: Mapping[str, Any]) -> Any:
    """The schema's own first example, else an object of its required properties' first examples."""
    schema = _resolve(document, schema)
    name = schema.get("title", "the request body")
    if schema.get("examples"):
        return schema["examples"][0]
    body = {}
    for field in schema.get("required", []):
        examples = _resolve(document, schema["properties"][field]).get("examples")
        if not examples:
            raise FixtureError(f"{name}.{field} has no example: give the field `examples=[...]`")
        body[field] = examples[0]
    if not body:
        raise FixtureError(f"{name} has no required fields: give the model an example (json_schema_extra)")
    return body


def _parameters(document: Mapping[str, Any], operation: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Path parameters from their examples, query parameters that have a default."""
    path: dict[str, str] = {}
    query: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        schema = _resolve(document, parameter.get("schema", {}))
        if parameter["in"] == "path":
            examples = parameter.get("examples") or schema.get("examples")
            if not examples:
                raise FixtureError(
                    f"path parameter {parameter['name']} has no example: annotate it with Path(examples=)"
                )
            path[parameter["name"]] = str(examples[0])
        elif parameter["in"] == "query" and schema.get("default") is not None:
            query[parameter["name"]] = str(schema["default"])
    return path, query


def route_event(route: Route, document: Mapping[str, Any]) -> dict[str, Any]:
    """The proxy event of a typical call of ``route``, as API Gateway sends it to the function."""
    operation = document["paths"][route.path][route.method.lower()]
    path_params, query = _parameters(document, operation)
    path = route.path
    for name, value in path_params.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    stage = _stage(route)
    headers = [("Accept", "application/json")]
    body = b""
    if "requestBody" in operation:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        body = json.dumps(example_body(document, schema)).encode()
        headers.append(("Content-Type", "application/json"))
    headers += [
        ("Host", f"{stage.api_id}.execute-api.{stage.region}.amazonaws.com"),
        ("User-Agent", USER_AGENT),
        ("X-Forwarded-For", SOURCE_IP),
        ("X-Forwarded-Port", "443"),
        ("X-Forwarded-Proto", "https"),
    ]
    if route.authorizer is not None:
        headers.append((route.api.authorizers[route.authorizer].header, TOKEN_PLACEHOLDER))
    request = HttpRequest(
        method=route.method,
        path=path,
        query=urlencode(query),
        headers=headers,
        body=body,
        source_ip=SOURCE_IP,
        server_port=443,
        received=RECEIVED,
    )
    event = proxy_event(
        request,
        resource=route.path,
        path_params=path_params,
        stage=stage,
        request_id=REQUEST_ID,
        binary_media_types=route.api.binary_media_types,
    )
    if route.authorizer is not None:
        policy = Policy(principal_id=CALLER_ID, statements=(), context=dict(CALLER_CONTEXT))
        event["requestContext"]["authorizer"] = policy.request_context(AUTHORIZER_LATENCY_MS)
    return event


PREFLIGHT_ORIGIN = "https://app.example.com"


def preflight_event(route: Route) -> dict[str, Any]:
    """The proxy event of a browser's CORS preflight on ``route`` (an OPTIONS event, which the OpenAPI
    document does not describe): no token, no body; the page's origin and what it means to send."""
    stage = _stage(route)
    request = HttpRequest(
        method=route.method,
        path=route.path,
        query="",
        headers=[
            ("Accept", "*/*"),
            ("Access-Control-Request-Headers", "authorization,content-type"),
            ("Access-Control-Request-Method", "POST"),
            ("Host", f"{stage.api_id}.execute-api.{stage.region}.amazonaws.com"),
            ("Origin", PREFLIGHT_ORIGIN),
            ("User-Agent", USER_AGENT),
            ("X-Forwarded-For", SOURCE_IP),
            ("X-Forwarded-Port", "443"),
            ("X-Forwarded-Proto", "https"),
        ],
        body=b"",
        source_ip=SOURCE_IP,
        server_port=443,
        received=RECEIVED,
    )
    return proxy_event(
        request,
        resource=route.path,
        path_params={},
        stage=stage,
        request_id=REQUEST_ID,
        binary_media_types=route.api.binary_media_types,
    )


def authorizer_event(route: Route) -> dict[str, Any]:
    """The TOKEN authorizer event API Gateway sends for a call of ``route``."""
    return {
        "type": "TOKEN",
        "authorizationToken": TOKEN_PLACEHOLDER,
        "methodArn": _stage(route).method_arn(route.method, route.path),
    }


def fixtures(application: Application, document: Mapping[str, Any], events_dir: Path = EVENTS_DIR) -> list[Fixture]:
    """Every fixture of the template: one per ``Api`` event, one per function of CORS preflights (OPTIONS
    events), one per TOKEN authorizer function."""
    result: list[Fixture] = []
    routes_of: dict[str, list[Route]] = {}
    for route in application.routes:
        routes_of.setdefault(route.function_id, []).append(route)
    for function_id, routes in routes_of.items():
        folder = application.functions[function_id].code_dir.name
        for route in routes:
            # A function with several routes gets one fixture per method: <folder>_<method>.json.
            name = folder if len(routes) == 1 else f"{folder}_{route.method.lower()}"
            result.append(Fixture(events_dir / f"{name}.json", route_event(route, document)))
    preflights_done: set[str] = set()
    for route in application.preflights:  # a function's first preflight (a path without parameters)
        if route.function_id not in preflights_done and "{" not in route.path:
            preflights_done.add(route.function_id)
            folder = application.functions[route.function_id].code_dir.name
            result.append(Fixture(events_dir / f"{folder}.json", preflight_event(route)))
    authorizers_done: set[str] = set()
    for route in application.routes:  # the first route each authorizer guards names its methodArn
        if route.authorizer is None:
            continue
        function_id = route.api.authorizers[route.authorizer].function_id
        if function_id not in authorizers_done:
            authorizers_done.add(function_id)
            folder = application.functions[function_id].code_dir.name
            result.append(Fixture(events_dir / f"{folder}.json", authorizer_event(route)))
    return result


def generate(template_path: Path, document_path: Path) -> list[Fixture]:
    """The fixtures of the template at ``template_path``, paths relative to its folder."""
    application = load_application(template_path)
    document = json.loads(document_path.read_text(encoding="utf-8"))
    return fixtures(application, document, application.root / EVENTS_DIR)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract.fixtures", description=__doc__)
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--openapi", type=Path, default=DOCUMENT, help="the OpenAPI document (make openapi)")
    parser.add_argument(
        "--check", action="store_true", help="fail if a committed fixture differs from the generated one"
    )
    args = parser.parse_args(argv)
    stale = []
    for fixture in generate(args.template, args.openapi):
        text = fixture.render()
        current = fixture.path.read_text(encoding="utf-8") if fixture.path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(fixture.path)
        else:
            fixture.path.parent.mkdir(parents=True, exist_ok=True)
            fixture.path.write_text(text, encoding="utf-8")
            print(f"wrote {fixture.path}")
    if stale:
        print(f"out of date: {', '.join(map(str, stale))}: run `make events`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
