"""The committed OpenAPI document is the generated one, and it describes exactly the template's API."""

from __future__ import annotations

import re
from typing import Any

import pytest

from contract.openapi import DOCUMENT, DocumentError, generate, merge, render
from contract.project import BEARER_SCHEME, TAGS
from local_api.template import load_application
from shared import config
from tests.support import CLEARED_VARIABLES, ROOT

TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """Built as ``make openapi`` builds it, in an environment without any setting: no JWT secret."""
    with pytest.MonkeyPatch.context() as environment:
        for name in CLEARED_VARIABLES:
            environment.delenv(name, raising=False)
        config.clear_caches()
        try:
            return generate(TEMPLATE)
        finally:
            config.clear_caches()


def _routes() -> dict[tuple[str, str], str | None]:
    application = load_application(TEMPLATE)
    return {(route.method.lower(), route.path): route.authorizer for route in application.routes}


def test_committed_document_is_up_to_date(document: dict[str, Any]) -> None:
    assert (ROOT / DOCUMENT).read_text(encoding="utf-8") == render(document), "run `make openapi`"


def test_document_has_exactly_the_templates_routes(document: dict[str, Any]) -> None:
    documented = {(method, path) for path, operations in document["paths"].items() for method in operations}

    assert documented == set(_routes())


def test_documented_bearer_routes_are_exactly_those_behind_the_templates_authorizer(document: dict[str, Any]) -> None:
    """``create_app(tag, bearer=True)`` only documents; the template's ``Auth`` decides. Per method and path:
    a route documented as bearer (``security``, a 401) but public in the template, or the reverse, fails."""
    disagreements = []
    for (method, path), authorizer in sorted(_routes().items()):
        operation = document["paths"][path][method]
        if "security" in operation and authorizer is None:
            disagreements.append(f"{method.upper()} {path}: documented bearer, public in template.yaml")
        elif "security" not in operation and authorizer is not None:
            disagreements.append(f"{method.upper()} {path}: behind {authorizer} in template.yaml, documented public")
        elif authorizer is not None:
            assert operation["security"] == [{BEARER_SCHEME: []}], (method, path)
            assert "401" in operation["responses"], (method, path)

    assert disagreements == []


def test_bearer_scheme_is_the_jwt_of_login(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"] == {
        BEARER_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The `access_token` of /api/login.",
        }
    }


def test_every_tag_a_function_uses_has_a_row_and_every_row_a_function(document: dict[str, Any]) -> None:
    used = {tag for operations in document["paths"].values() for op in operations.values() for tag in op["tags"]}
    rows = [name for name, _ in TAGS]

    assert [tag["name"] for tag in document["tags"]] == rows
    assert len(rows) == len(set(rows))
    assert used - set(rows) == set(), "add a row to contract/project.py TAGS"
    assert set(rows) - used == set(), "a row of contract/project.py TAGS no function uses"


def test_a_tag_without_a_row_stops_the_document() -> None:
    # Imported here: importing the layer's logging modules at collection, before the tests' environment
    # names the service, would leave their loggers outside the one the function tests capture.
    from shared.http.resolver import create_app

    app = create_app("no-such-tag")

    @app.get("/api/untagged", operation_id="untagged")
    def untagged() -> dict[str, str]:
        """A route of a tag nobody described."""
        return {}

    with pytest.raises(DocumentError, match=r"GET /api/untagged: tag 'no-such-tag' has no row"):
        merge([app], version="0")


def test_every_operation_is_described_from_its_docstring(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["summary"] != f"{method.upper()} {path}", (method, path)
            assert operation["summary"].endswith("."), (method, path)


def test_error_responses_use_the_detail_shape(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["ErrorDetail"]["properties"]["detail"]["type"] == "string"
    assert set(schemas["ValidationError"]["properties"]) >= {"loc", "msg", "type"}
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if status in {"401", "403", "404", "409", "415", "500"}:
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ErrorDetail"


def test_models_carry_descriptions_and_examples(document: dict[str, Any]) -> None:
    user_create = document["components"]["schemas"]["UserCreate"]["properties"]
    assert all("description" in field and "examples" in field for field in user_create.values())


def test_every_operation_has_a_readable_unique_operation_id(document: dict[str, Any]) -> None:
    ids = [
        operation.get("operationId") for operations in document["paths"].values() for operation in operations.values()
    ]

    assert all(isinstance(i, str) and re.fullmatch(r"[a-z][A-Za-z]+", i) for i in ids), ids
    assert len(ids) == len(set(ids)), ids


def test_responses_without_a_body_document_no_content(document: dict[str, Any]) -> None:
    delete = document["paths"]["/api/prompts/{prompt_id}"]["delete"]["responses"]["204"]
    assert "content" not in delete
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if status in {"204", "205", "304"}:
                    assert "content" not in response
                for media in response.get("content", {}).values():
                    assert media["schema"].get("type") != "null", (status, response)


def test_account_routes_are_documented_with_their_operation_ids(document: dict[str, Any]) -> None:
    operations = {
        ("post", "/api/token/refresh"): "refreshToken",
        ("post", "/api/logout"): "logout",
        ("patch", "/api/me"): "updateMe",
        ("post", "/api/me/password"): "changePassword",
        ("delete", "/api/me"): "deleteMe",
        ("post", "/api/password/forgot"): "forgotPassword",
        ("post", "/api/password/reset"): "resetPassword",
    }
    for (method, path), operation_id in operations.items():
        assert document["paths"][path][method]["operationId"] == operation_id
    assert "security" not in document["paths"]["/api/token/refresh"]["post"]
    login = document["paths"]["/api/login"]["post"]["responses"]
    assert login["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    for path, method in (("/api/me/password", "post"), ("/api/me", "delete")):
        assert "400" in document["paths"][path][method]["responses"]
        assert "429" in document["paths"][path][method]["responses"]
    forgot = document["paths"]["/api/password/forgot"]["post"]
    reset = document["paths"]["/api/password/reset"]["post"]
    assert forgot["tags"] == reset["tags"] == ["auth"]
    assert "security" not in forgot and "security" not in reset
    assert forgot["responses"]["202"] == {"description": "Successful Response"}  # no body
    assert "429" in forgot["responses"] and "400" in reset["responses"]
