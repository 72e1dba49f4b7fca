"""SAM CLI's own template readers see what API Gateway will: every route, its function, its authorizer.

``sam local start-api`` builds its routes with SAM CLI's providers (``SamLocalStackProvider``, then
``ApiProvider``), which resolve far fewer forms than the project's local API does: an authorizer they
cannot resolve is dropped with a warning, and the protected routes are then open. SAM CLI lives in its
own venv (``make sam-install``), so ``tests/sam_cli_routes.py`` runs there and prints what they found.
Skipped without ``.venv-sam``, except with ``CI=true`` (``.ci/run`` installs it), where that fails.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
SAM_PYTHON = ROOT / ".venv-sam/bin/python"
READER = ROOT / "tests/sam_cli_routes.py"
NO_AUTHORIZER = "NONE"

TEMPLATE: dict[str, Any] = cfn_yaml.load(str(TEMPLATE_PATH))
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = [name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"]

pytestmark = pytest.mark.skipif(
    not SAM_PYTHON.exists() and os.environ.get("CI") != "true",
    reason="no SAM CLI venv (.venv-sam): make sam-install",
)


def sam_cli_routes(template: Path) -> tuple[set[tuple[Any, ...]], str]:
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    done = subprocess.run(
        [str(SAM_PYTHON), str(READER), str(template)],
        cwd=template.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = {
        (r["method"], r["path"], r["function"], r["authorizer"], r["authorizer_function"])
        for r in json.loads(done.stdout)
    }
    return found, done.stderr


def function_named_by(arn: Any) -> str:
    """The function an authorizer's FunctionArn names, in whichever form (!GetAtt, !Ref, !Sub)."""
    (function,) = [f for f in FUNCTIONS if f in json.dumps(arn)]
    return function


def template_routes() -> set[tuple[Any, ...]]:
    """(method, path, function, authorizer, its function) for every Api event, as API Gateway will have them."""
    routes = set()
    for function in FUNCTIONS:
        for event in (RESOURCES[function]["Properties"].get("Events") or {}).values():
            if event["Type"] != "Api":
                continue
            properties = event["Properties"]
            auth = RESOURCES[properties["RestApiId"]["Ref"]]["Properties"]["Auth"]
            name = (properties.get("Auth") or {}).get("Authorizer", auth.get("DefaultAuthorizer"))
            authorizer = None if name in (None, NO_AUTHORIZER) else name
            arn = auth["Authorizers"][authorizer]["FunctionArn"] if authorizer else None
            authorizer_function = function_named_by(arn) if authorizer else None
            routes.add((properties["Method"].upper(), properties["Path"], function, authorizer, authorizer_function))
    return routes


EXPECTED = template_routes()


def test_the_template_has_protected_and_public_routes() -> None:
    assert {route[3] for route in EXPECTED} == {None, "JwtAuthorizer"}


def test_sam_cli_serves_every_route_with_its_function_and_authorizer() -> None:
    found, warnings = sam_cli_routes(TEMPLATE_PATH)

    assert found == EXPECTED, warnings
    assert "was not found, skipping" not in warnings


def test_sam_cli_drops_an_authorizer_named_by_a_reference_to_the_alias(tmp_path: Path) -> None:
    # Why FunctionArn spells the alias by ARN: SAM CLI cannot resolve !Ref <Function>.Alias.
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    by_reference = tmp_path / "template.yaml"
    by_reference.write_text(
        text.replace('FunctionArn: !Sub "${AuthorizerFunction.Arn}:live"', "FunctionArn: !Ref AuthorizerFunction.Alias")
    )

    found, warnings = sam_cli_routes(by_reference)

    assert by_reference.read_text() != text
    assert {route[3] for route in found} == {None}
    assert "Authorizer 'JwtAuthorizer' for route" in warnings
