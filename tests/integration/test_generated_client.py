"""A Python client generated from the committed docs/openapi.json by openapi-python-client
(the usual generator for Python) works against the API: every operation, the 204 included."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from contract.openapi import DOCUMENT
from tests.integration.helpers import ROOT, LocalApi, unique_email
from tests.support import PASSWORD

PACKAGE = "prompt_api_client"
# No post hooks: the generator's default runs ruff over the output, which the test does not need.
CONFIG = f"project_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\npost_hooks: []\n"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The client generated from the committed document, importable as ``prompt_api_client``."""
    folder = tmp_path_factory.mktemp("generated-client")
    config = folder / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    output = folder / "project"
    generate = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(ROOT / DOCUMENT)]
    generate += ["--config", str(config), "--output-path", str(output)]
    result = subprocess.run(generate, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr  # all of it understood
    sys.path.insert(0, str(output))
    try:
        yield output
    finally:
        sys.path.remove(str(output))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@dataclass(frozen=True)
class Clients:
    public: Any
    authenticated: Callable[[str], Any]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def _call(operation: str, *args: Any, **kwargs: Any) -> Any:
    """``sync_detailed`` of the operation (``api/<tag>/<operation>.py``): status and parsed body."""
    package = Path(importlib.import_module(PACKAGE).__file__ or "").parent
    (module,) = (package / "api").glob(f"*/{operation}.py")
    return _module(f"api.{module.parent.name}.{operation}").sync_detailed(*args, **kwargs)


@pytest.fixture
def clients(client_package: Path, api: LocalApi) -> Iterator[Clients]:
    """A public client and one for a bearer token, each closed (with its connections) at the end."""
    client_module = _module("client")
    with ExitStack() as stack:

        def authenticated(token: str) -> Any:
            client = client_module.AuthenticatedClient(
                base_url=api.base_url, token=token, raise_on_unexpected_status=True
            )
            return stack.enter_context(client)

        public = client_module.Client(base_url=api.base_url, raise_on_unexpected_status=True)
        yield Clients(stack.enter_context(public), authenticated)


def test_generated_client_runs_the_whole_journey(clients: Clients) -> None:
    models = _module("models")
    public = clients.public
    email = unique_email()

    registered = _call(
        "register", client=public, body=models.UserCreate(email=email, username="ada", password=PASSWORD)
    )
    assert registered.status_code == 201
    assert isinstance(registered.parsed, models.UserPublic)
    assert (registered.parsed.email, registered.parsed.is_active) == (email, True)

    logged_in = _call("login", client=public, body=models.UserLogin(email=email, password=PASSWORD))
    assert logged_in.status_code == 200
    assert isinstance(logged_in.parsed, models.Token)
    assert logged_in.parsed.token_type == "bearer"
    user = clients.authenticated(logged_in.parsed.access_token)

    me = _call("get_me", client=user)
    assert me.status_code == 200
    assert isinstance(me.parsed, models.UserPublic)
    assert me.parsed.id == registered.parsed.id

    created = _call("create_prompt", client=user, body=models.PromptCreate(content="Summarise this"))
    assert created.status_code == 201
    assert isinstance(created.parsed, models.PromptPublic)
    assert (created.parsed.user_id, created.parsed.content, created.parsed.response) == (
        me.parsed.id,
        "Summarise this",
        None,
    )
    prompt_id = created.parsed.id

    listed = _call("list_prompts", client=user, limit=10)
    assert listed.status_code == 200
    assert isinstance(listed.parsed, models.PagePromptPublic)
    assert [p.id for p in listed.parsed.items] == [prompt_id]
    assert listed.parsed.next_cursor is None

    read = _call("get_prompt", prompt_id, client=user)
    assert read.status_code == 200
    assert read.parsed == created.parsed

    updated = _call("update_prompt", prompt_id, client=user, body=models.PromptUpdate(response="1. 2. 3."))
    assert updated.status_code == 200
    assert isinstance(updated.parsed, models.PromptPublic)
    assert (updated.parsed.content, updated.parsed.response) == ("Summarise this", "1. 2. 3.")
    assert updated.parsed.updated_at >= created.parsed.updated_at

    deleted = _call("delete_prompt", prompt_id, client=user)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert deleted.parsed is None

    gone = _call("get_prompt", prompt_id, client=user)
    assert gone.status_code == 404
    assert isinstance(gone.parsed, models.ErrorDetail)
    assert gone.parsed.detail == "Prompt not found"

    check = _call("create_status_check", client=public, body=models.StatusCheckCreate(client_name=email))
    assert check.status_code == 201
    assert isinstance(check.parsed, models.StatusCheckPublic)
    assert check.parsed.client_name == email

    checks = _call("list_status_checks", client=public, limit=100)
    assert checks.status_code == 200
    assert isinstance(checks.parsed, models.PageStatusCheckPublic)
    assert check.parsed.id in [c.id for c in checks.parsed.items]

    health = _call("get_health", client=public)
    assert health.status_code == 200
    assert isinstance(health.parsed, models.Health)
    assert (health.parsed.status, health.parsed.database) == (models.HealthStatus.OK, models.HealthDatabase.OK)


def test_generated_client_reads_the_apis_errors(clients: Clients) -> None:
    models = _module("models")
    public = clients.public

    refused = _call("login", client=public, body=models.UserLogin(email=unique_email(), password=PASSWORD))
    invalid = _call("register", client=public, body=models.UserCreate(email="not-an-email", username="a", password="x"))

    assert refused.status_code == 401
    assert isinstance(refused.parsed, models.ErrorDetail)
    assert refused.parsed.detail == "Incorrect email or password"
    assert invalid.status_code == 422
    assert isinstance(invalid.parsed, models.HTTPValidationError)
    assert {tuple(error.loc) for error in invalid.parsed.detail} >= {("body", "email"), ("body", "password")}


def test_generated_method_names_come_from_the_operation_ids(client_package: Path) -> None:
    document = json.loads((ROOT / DOCUMENT).read_text(encoding="utf-8"))
    operation_ids = [op["operationId"] for operations in document["paths"].values() for op in operations.values()]
    modules = {path.stem for path in (client_package / PACKAGE / "api").glob("*/*.py") if path.stem != "__init__"}

    assert modules == {re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower() for operation_id in operation_ids}
    assert {"login", "get_me", "list_prompts", "delete_prompt", "get_health"} <= modules
