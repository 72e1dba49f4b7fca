"""The API's one OpenAPI document, generated from the functions' own routes and models.

Every function behind an ``Api`` event of the template builds its Powertools resolver; their
schemas are merged into one document. Nothing here is written by hand but the title, the tags
(``contract.project``) and the bearer scheme. ``python -m contract.openapi`` writes
``docs/openapi.json`` (``make openapi``); ``--check`` fails when that file is out of date. The local
API's docs page serves the same document, built by ``document()`` from the modules it runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Tag

from contract import project
from local_api.intrinsics import Intrinsics
from local_api.runtime import load_module
from local_api.template import Application, Function, load_application, load_yaml, parameter_defaults

DOCUMENT = Path("docs/openapi.json")
TAGS = [Tag(name=name, description=description) for name, description in project.TAGS]
SECURITY_SCHEMES: dict[str, Any] = {
    project.BEARER_SCHEME: HTTPBearer(
        scheme="bearer", bearerFormat="JWT", description="The `access_token` of /api/login."
    ),
}
_UNSUPPORTED_MEDIA_TYPE = {
    "description": "The body is not sent as `application/json`.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorDetail"}}},
}
_INTERNAL_ERROR = {
    "description": "Unexpected error; the details are in the function's log, never in the response.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorDetail"}}},
}


_BODYLESS_STATUSES = {"204", "205", "304"}  # RFC 9110: these responses never carry content


class DocumentError(RuntimeError):
    """Raised when a function of the template has no Powertools resolver to document, or uses a tag
    that has no row in ``contract.project.TAGS``."""


def routed_functions(application: Application) -> list[Function]:
    """The functions behind the template's routes (not the authorizer), in a stable order."""
    return [application.functions[name] for name in sorted({route.function_id for route in application.routes})]


def resolver_of(function: Function, module: ModuleType) -> Any:
    """The module's resolver, ``app``, as every function of this project builds it."""
    app = getattr(module, "app", None)
    if not callable(getattr(app, "get_openapi_schema", None)):
        raise DocumentError(f"{function.logical_id}: {function.module_path} has no Powertools resolver named `app`")
    return app


def generate(template_path: Path) -> dict[str, Any]:
    """The merged document of every function the template routes to."""
    template = load_yaml(template_path)
    application = load_application(template_path, Intrinsics(parameter_defaults(template), {}), template)
    return document(application, load_module)


def document(application: Application, module_of: Callable[[Function], ModuleType]) -> dict[str, Any]:
    """The merged document of the application's routed functions, each module got from ``module_of``."""
    resolvers = [resolver_of(f, module_of(f)) for f in routed_functions(application)]
    return merge(resolvers, version=project.version(application.root))


def merge(resolvers: Iterable[Any], *, version: str) -> dict[str, Any]:
    """One document from the functions' resolvers, with the API's own error shapes."""
    merger = OpenAPIMerge(
        title=project.TITLE,
        version=version,
        description=project.DESCRIPTION,
        tags=list(TAGS),
        security_schemes=SECURITY_SCHEMES,
        on_conflict="error",
    )
    for app in resolvers:
        merger.add_schema(app.get_openapi_schema(security_schemes=SECURITY_SCHEMES))
    document: dict[str, Any] = json.loads(merger.get_openapi_json_schema())
    described = {tag.name for tag in TAGS}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for tag in sorted(set(operation.get("tags", [])) - described):
                raise DocumentError(f"{method.upper()} {path}: tag {tag!r} has no row in contract/project.py TAGS")
            for status, response in operation["responses"].items():
                # Powertools documents a `None` return (a bare Response, as a 202 or a 204 is) as a JSON
                # null body: it is no body. And these statuses never have one.
                schemas = [m.get("schema", {}) for m in response.get("content", {}).values()]
                if status in _BODYLESS_STATUSES or (schemas and all(s.get("type") == "null" for s in schemas)):
                    response.pop("content", None)
            # Powertools documents 500 as its response-validation body; the API answers {"detail": ...}.
            operation["responses"]["500"] = _INTERNAL_ERROR
            # ... and a 422 even where there is nothing to validate.
            if not operation.get("parameters") and "requestBody" not in operation:
                operation["responses"].pop("422", None)
            if "requestBody" in operation:
                operation["responses"]["415"] = _UNSUPPORTED_MEDIA_TYPE
    schemas = document["components"]["schemas"]
    schemas.pop("ResponseValidationError", None)
    # Our 422 items carry pydantic's message too (FastAPI's shape); Powertools' schema omits it.
    schemas["ValidationError"]["properties"]["msg"] = {"type": "string", "title": "Message"}
    schemas["HTTPValidationError"]["required"] = ["detail"]
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract.openapi", description=__doc__)
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--output", type=Path, default=DOCUMENT)
    parser.add_argument("--check", action="store_true", help="fail if --output differs from the generated document")
    args = parser.parse_args(argv)
    try:
        text = render(generate(args.template))
    except DocumentError as e:
        print(f"{parser.prog}: {e}", file=sys.stderr)
        return 1
    if args.check:
        if not args.output.exists() or args.output.read_text(encoding="utf-8") != text:
            print(f"{args.output} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
