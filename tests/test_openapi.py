"""The committed OpenAPI document is the generated one, and it describes exactly the template's API."""

from __future__ import annotations

import re
from typing import Any

import pytest

from local_api.openapi import DOCUMENT, build, render
from local_api.template import load_application
from tests.support import ROOT

TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build(TEMPLATE)


def _routes() -> dict[tuple[str, str], str | None]:
    application = load_application(TEMPLATE)
    return {(route.method.lower(), route.path): route.authorizer for route in application.routes}


def test_committed_document_is_up_to_date(document: dict[str, Any]) -> None:
    assert (ROOT / DOCUMENT).read_text(encoding="utf-8") == render(document), "run `make openapi`"


def test_document_has_exactly_the_templates_routes(document: dict[str, Any]) -> None:
    documented = {(method, path) for path, operations in document["paths"].items() for method in operations}

    assert documented == set(_routes())


def test_protected_routes_and_only_those_carry_the_bearer_scheme(document: dict[str, Any]) -> None:
    for (method, path), authorizer in _routes().items():
        operation = document["paths"][path][method]
        assert ("security" in operation) == (authorizer is not None), (method, path)
        if authorizer is not None:
            assert operation["security"] == [{"bearerAuth": []}]
            assert "401" in operation["responses"]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The `access_token` of /api/login.",
    }


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
