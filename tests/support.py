"""Test helpers: event fixtures and their variants, handler invocation, a fake Lambda context.

Events are data (``events/<route>.json``); every variant is made by ``api_event`` from one of
them, the way API Gateway would have sent it.
"""

from __future__ import annotations

import ast
import base64
import copy
import importlib.util
import json
import logging
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from local_api.harness import free_port as free_port  # one port finder for in-process and server tests
from local_api.store import server_like_client
from local_api.store import ttl_pass as store_ttl_pass
from shared.config import VARIABLES
from shared.http.contract import CONTEXT_SESSION_ID, CONTEXT_USER_ID

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"
FUNCTIONS_DIR = ROOT / "functions"
TEST_JWT_SECRET = "test-signing-secret-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery"

# What every test clears from the environment it inherits (``tests/conftest.py``): every variable the
# settings read (``shared.config.VARIABLES``), and the others of a developer's shell that would change
# a result.
NOT_SETTINGS_VARIABLES = ("POWERTOOLS_LOGGER_LOG_EVENT", "AWS_PROFILE")
CLEARED_VARIABLES = (*VARIABLES, *NOT_SETTINGS_VARIABLES)

_UNSET: Any = object()
_store_client: Any = None  # the in-memory store reset_containers() installed last


def in_fresh_process(script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    """Run ``script`` with ``args`` in a fresh interpreter (with ``env``, or this process's environment):
    the JSON its last line of output prints."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    )
    return json.loads(done.stdout.splitlines()[-1])


def app_path(function: str) -> str:
    """The handler module of ``functions/<function>/``, as Lambda loads it."""
    return str(FUNCTIONS_DIR / function / "app.py")


def reset_containers() -> None:
    """What a fresh Lambda container would start with: no settings, client or cached secrets.

    Where a test configures no MongoDB URI, its functions use a fresh in-memory store
    (mongomock) with the indexes the deploy creates, installed through ``shared.data.client``'s hook.
    Like a server, it keeps TTL-expired documents until a TTL pass: ``ttl_pass()``.
    """
    global _store_client
    from aws_lambda_powertools.metrics.provider import cold_start
    from aws_lambda_powertools.utilities import parameters

    from shared import config
    from shared.accounts import forgot_password
    from shared.data import client as db
    from shared.data.indexes import ensure_indexes
    from shared.mail import mailer
    from shared.metrics import metrics

    config.clear_caches()
    metrics.clear_metrics()
    cold_start.reset_cold_start_flag()
    db.reset()
    client = server_like_client()
    ensure_indexes(client[config.DEFAULT_DB_NAME])
    db.use_client(client)
    _store_client = client
    mailer.reset()
    forgot_password.send_time.forget()
    parameters.clear_caches()
    # Powertools configures a service's logger once per process; a new container starts bare.
    service_logger = logging.getLogger("prompt-api")
    for handler in list(service_logger.handlers):
        service_logger.removeHandler(handler)
    for attribute in ("init", "powertools_handler", "powertools_buffer_config", "powertools_buffer_cache"):
        if hasattr(service_logger, attribute):
            delattr(service_logger, attribute)


def ttl_pass() -> int:
    """What a server's TTL monitor does about once a minute, now, in the tests' store: delete the
    documents its TTL indexes say have expired. Until then, expired documents stay readable, as on a
    server. The number deleted."""
    return store_ttl_pass(_store_client)


def imported_modules(path: Path) -> set[str]:
    """The modules a Python file imports by name (``import x.y``, ``from x.y import z``), anywhere in it."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    return event


def api_event(
    route: str,
    *,
    body: Any = _UNSET,
    raw_body: str | None = None,
    path_params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    user_id: str | None = _UNSET,
    sid: str | None = None,
    source_ip: str | None = None,
) -> dict[str, Any]:
    """The fixture of ``route`` with the given changes, kept as consistent as API Gateway's.

    ``user_id`` (and ``sid``, the session) set what the authorizer put in the request context
    (``user_id=None`` removes it); ``source_ip`` the client address API Gateway saw.
    """
    event = copy.deepcopy(load_event(route))
    if body is not _UNSET:
        event["body"] = None if body is None else json.dumps(body)
    if raw_body is not None:
        event["body"] = raw_body
    if path_params is not None:
        event["pathParameters"] = path_params
        path = event["resource"]
        for key, value in path_params.items():
            path = path.replace("{" + key + "}", value)
        event["path"] = path
        event["requestContext"]["path"] = f"/{event['requestContext']['stage']}{path}"
    if query is not None:
        event["queryStringParameters"] = query or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    if headers is not None:
        event["headers"] = {**event["headers"], **headers}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    if user_id is None:
        event["requestContext"].pop("authorizer", None)
    elif user_id is not _UNSET:
        event["requestContext"]["authorizer"] = {"principalId": user_id, CONTEXT_USER_ID: user_id}
    if sid is not None:
        event["requestContext"]["authorizer"][CONTEXT_SESSION_ID] = sid
    if source_ip is not None:
        event["requestContext"]["identity"]["sourceIp"] = source_ip
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    return event


class FakeContext:
    """The parts of the Lambda context object that Powertools reads."""

    function_name = "prompt-api-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:prompt-api-test"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/prompt-api-test"
    log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def load_function(name: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` afresh, as a new container would."""
    module_name = f"functions_{name}_app"
    spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS_DIR / name / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def run_sweeper() -> dict[str, int]:
    """One scheduled run of the sweep: the sweeper's handler with its fixture (``events/sweeper.json``)."""
    result: dict[str, int] = load_function("sweeper").lambda_handler(load_event("sweeper"), FakeContext())
    return result


@dataclass
class HttpResult:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: str | None = None


def invoke(route: str, event: dict[str, Any] | None = None, **changes: Any) -> HttpResult:
    """Call the route's handler with its fixture (or ``event``) and parse the proxy response."""
    event = event if event is not None else api_event(route, **changes)
    response = load_function(route).lambda_handler(event, FakeContext())
    assert isinstance(response["statusCode"], int)
    raw = response.get("body")
    if raw and response.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    headers = {k: ",".join(v) for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    return HttpResult(response["statusCode"], json.loads(raw) if raw else None, headers, raw)


def authorize(token: str | None, *, header: str | None = None, route: tuple[str, str] | None = None) -> dict[str, Any]:
    """Run the TOKEN authorizer (for the fixture's route, or ``route``: ``(method, path)``); raises what
    the authorizer raises."""
    event = load_event("authorizer")
    event["authorizationToken"] = header if header is not None else f"Bearer {token}"
    if route is not None:
        stage_arn = "/".join(event["methodArn"].split("/", 2)[:2])
        event["methodArn"] = f"{stage_arn}/{route[0]}{route[1]}"
    result: dict[str, Any] = load_function("authorizer").lambda_handler(event, FakeContext())
    return result


def register(email: str = "ada@example.com", *, username: str = "ada", password: str = PASSWORD) -> dict[str, Any]:
    result = invoke("register", body={"email": email, "username": username, "password": password})
    assert result.status == 201, result.body
    user: dict[str, Any] = result.body
    return user


def login_pair(email: str = "ada@example.com", *, password: str = PASSWORD) -> dict[str, Any]:
    """The body of a successful login: access and refresh token of a new session."""
    result = invoke("login", body={"email": email, "password": password})
    assert result.status == 200, result.body
    pair: dict[str, Any] = result.body
    return pair


def login(email: str = "ada@example.com", *, password: str = PASSWORD) -> str:
    token: str = login_pair(email, password=password)["access_token"]
    return token


def context_of(access_token: str) -> dict[str, Any]:
    """The authorizer's context for ``access_token`` (what API Gateway passes a function)."""
    context: dict[str, Any] = authorize(access_token)["context"]
    return context


_FIXTURE_USER_HASH = (
    "$2b$04$7mPeXqN3Fps1TEuvZISZUek333a5TyNgvwTzTTmi5hG1gQ.NXzsFy"  # bcrypt of a password no test sends
)


def ensure_user(user_id: str) -> None:
    """A stored active user with this id (fixtures name a user the tests did not register)."""
    from shared.data.client import get_database
    from shared.ids import utcnow

    get_database().users.update_one(
        {"_id": user_id},
        {
            "$setOnInsert": {
                "email": f"{user_id}@example.com",
                "username": "fixture",
                "hashed_password": _FIXTURE_USER_HASH,
                "created_at": utcnow(),
                "is_active": True,
            }
        },
        upsert=True,
    )


def fixture_user(event: dict[str, Any]) -> str:
    """The id of the user a protected route's fixture names in its authorizer context, now stored."""
    user_id: str = event["requestContext"]["authorizer"][CONTEXT_USER_ID]
    ensure_user(user_id)
    return user_id


def create_prompt(user_id: str, content: str = "Write a haiku about Lambda.", **extra: Any) -> dict[str, Any]:
    ensure_user(user_id)
    result = invoke("create_prompt", body={"content": content, **extra}, user_id=user_id)
    assert result.status == 201, result.body
    prompt: dict[str, Any] = result.body
    return prompt
