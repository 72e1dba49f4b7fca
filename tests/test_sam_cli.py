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
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cfnlint.decode import cfn_yaml

from local_api.harness import child_environment, free_port
from tests.support import PASSWORD

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


# ---- SAM CLI's own gateway (LocalApigwService), the functions in a worker of the app's venv ----

GATEWAY = ROOT / "tests/sam_cli_gateway.py"


@pytest.fixture(scope="module")
def sam_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``tests/sam_cli_gateway.py`` on a free port (SAM CLI's venv), its functions run by ``sam_cli_worker``."""
    log_path = tmp_path_factory.mktemp("sam_gateway") / "output.log"
    log = log_path.open("wb")
    port = free_port()
    environment = child_environment({"BCRYPT_ROUNDS": "4", "SAM_CLI_TELEMETRY": "0"})
    environment.pop("PYTHONPATH")  # SAM CLI's venv imports nothing of the project; the worker runs from ROOT
    worker = [sys.executable, "-m", "tests.sam_cli_worker", str(TEMPLATE_PATH)]
    gateway = subprocess.Popen(
        [str(SAM_PYTHON), str(GATEWAY), str(TEMPLATE_PATH), str(port), *worker],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,  # the worker's too: the functions' logs, SAM CLI's request lines
        start_new_session=True,  # its worker too, stopped with it
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not listening(port):
            assert gateway.poll() is None, f"SAM CLI's gateway exited: {log_path.read_text(errors='replace')}"
            assert time.monotonic() < deadline, f"not listening: {log_path.read_text(errors='replace')}"
            time.sleep(0.1)
        yield base_url
    finally:
        os.killpg(gateway.pid, signal.SIGTERM)
        try:
            gateway.wait(timeout=10)
        except subprocess.TimeoutExpired:  # Flask's server may ignore SIGTERM while busy: stop it for good
            os.killpg(gateway.pid, signal.SIGKILL)
            gateway.wait(timeout=10)
        log.close()


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_journey_through_sam_clis_gateway(sam_gateway: str) -> None:
    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, sam_gateway + path, timeout=30, **kwargs)

    email = f"sam-{uuid.uuid4().hex[:8]}@example.com"
    registered = call("POST", "/api/register", json={"email": email, "username": "sam", "password": PASSWORD})
    login = call("POST", "/api/login", json={"email": email, "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = call("GET", "/api/me", headers=bearer)
    created = call("POST", "/api/prompts", headers=bearer, json={"content": "through SAM CLI"})
    listed = call("GET", "/api/prompts", headers=bearer)

    assert (registered.status_code, registered.json()["email"]) == (201, email)
    assert login.status_code == 200
    assert (me.status_code, me.json()) == (200, registered.json())  # the authorizer's context reached the function
    assert (created.status_code, created.json()["user_id"]) == (201, registered.json()["id"])
    assert (listed.status_code, [p["id"] for p in listed.json()["items"]]) == (200, [created.json()["id"]])


def test_sam_clis_gateway_answers_its_own_errors_without_the_templates_gateway_responses(sam_gateway: str) -> None:
    # What README's table says of sam local start-api: no token, a refused token (the authorizer raises
    # Unauthorized, as API Gateway expects, and SAM CLI counts that as a failed invocation), no route.
    no_token = requests.get(sam_gateway + "/api/me", timeout=30)
    refused = requests.get(sam_gateway + "/api/me", headers={"Authorization": "Bearer not.a.token"}, timeout=30)
    no_route = requests.get(sam_gateway + "/api/nope", timeout=30)

    assert (no_token.status_code, no_token.json()) == (401, {"message": "Unauthorized"})
    assert (refused.status_code, refused.json()) == (502, {"message": "Internal server error"})
    assert (no_route.status_code, no_route.json()) == (403, {"message": "Missing Authentication Token"})


def test_sam_clis_gateway_sends_a_preflight_to_the_preflight_function(sam_gateway: str) -> None:
    preflight = requests.options(
        sam_gateway + "/api/prompts",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
        timeout=30,
    )

    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET,POST,PATCH,DELETE,OPTIONS"
