"""Fault injection: every write flow, through its handler, with each database operation it performs
failing before it applies (AutoReconnect), failing after it applied (NetworkTimeout), or the function
stopping right after it (``Stopped``: a Lambda timeout or a killed container); then the same request
retried (through the authorizer, as API Gateway would once its cache has passed) and the sweep.

The operations are found, not listed: the test store's collections are wrapped in a recording proxy, each
flow runs once to record its sequence, then once per (operation, fault). After the retry and the sweep:

- no answer is a 500;
- the retry completes the write (each flow says what that means: the same prompt, the new password in
  force, the account gone...);
- nothing is orphaned: every document of ``OWNED`` belongs to an existing user, and no tombstone is left;
- at most one prompt per Idempotency-Key;
- a 503 that left a change behind comes only from a route whose row in the README's "Failures and
  retries" table says a 503 may mean it was applied.

``FAULT_MATRIX_OUT=<file>`` writes every case's outcome there (JSON), for the record.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import mongomock
import pytest
from pymongo.errors import AutoReconnect, NetworkTimeout

from shared.accounts.owned_data import OWNED
from shared.accounts.sweep import sweep
from shared.config import DEFAULT_DB_NAME
from shared.data import client as db
from shared.data.client import get_database
from shared.data.indexes import ensure_indexes
from shared.errors import ServiceUnavailable
from shared.ids import utcnow
from tests.support import PASSWORD, ROOT, FakeContext, api_event, load_event, load_function, reset_containers

NEW_PASSWORD = "battery staple horse"
OPERATIONS = frozenset(
    {
        "aggregate",
        "bulk_write",
        "count_documents",
        "delete_many",
        "delete_one",
        "distinct",
        "find",
        "find_one",
        "find_one_and_delete",
        "find_one_and_replace",
        "find_one_and_update",
        "insert_many",
        "insert_one",
        "replace_one",
        "update_many",
        "update_one",
    }
)
MODES = ("before", "after", "stop")


class Stopped(BaseException):
    """The function stopped here: a Lambda timeout or a killed container (no handler catches it)."""


# The recording, fault-injecting store ---------------------------------------------------------------


@dataclass
class Plan:
    """What the store does while armed: record each operation, and inject ``mode`` at operation ``index``."""

    index: int | None = None
    mode: str = ""
    armed: bool = False
    calls: list[str] = field(default_factory=list)

    def run(self, name: str, operation: Callable[[], Any]) -> Any:
        if not self.armed:
            return operation()
        position = len(self.calls)
        self.calls.append(name)
        if position != self.index:
            return operation()
        if self.mode == "before":
            raise AutoReconnect(f"injected before {name}")
        operation()
        if self.mode == "after":
            raise NetworkTimeout(f"injected after {name}")
        raise Stopped(name)


class _Collection:
    def __init__(self, real: Any, plan: Plan) -> None:
        self._real, self._plan = real, plan

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._real, name)
        if name not in OPERATIONS:
            return attribute
        label = f"{self._real.name}.{name}"
        return lambda *args, **kwargs: self._plan.run(label, lambda: attribute(*args, **kwargs))


class _Database:
    def __init__(self, real: Any, plan: Plan) -> None:
        self._real, self._plan = real, plan

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self._real[name], self._plan)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._real, name)
        return _Collection(attribute, self._plan) if isinstance(attribute, mongomock.Collection) else attribute


class _Client:
    def __init__(self, real: mongomock.MongoClient, plan: Plan) -> None:
        self._real, self._plan = real, plan

    def __getitem__(self, name: str) -> _Database:
        return _Database(self._real[name], self._plan)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def fresh_store(plan: Plan) -> None:
    reset_containers()
    store = mongomock.MongoClient(tz_aware=True)
    ensure_indexes(store[DEFAULT_DB_NAME])
    db.use_client(_Client(store, plan))  # type: ignore[arg-type]  # duck-typed: what the layer calls


# Calling the functions ------------------------------------------------------------------------------

_MODULES: dict[str, ModuleType] = {}


def function(route: str) -> ModuleType:
    """A function's module, loaded once: its warm container."""
    if route not in _MODULES:
        _MODULES[route] = load_function(route)
    return _MODULES[route]


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: the function stopped
    body: Any = None
    by: str = "function"  # or "authorizer" (a 401 before the function), "policy" (a 403)

    def label(self) -> str:
        if self.status is None:
            return "stopped"
        return str(self.status) if self.by == "function" else f"{self.status} ({self.by})"


def call(route: str, event: dict[str, Any]) -> Outcome:
    try:
        response = function(route).lambda_handler(event, FakeContext())
    except Stopped:
        return Outcome(None)
    raw = response.get("body")
    return Outcome(response["statusCode"], json.loads(raw) if raw else None)


STAGE_ARN = "/".join(load_event("authorizer")["methodArn"].split("/", 2)[:2])


def authorized(token: str, event: dict[str, Any]) -> dict[str, Any] | Outcome:
    """``event`` with the context the authorizer gives ``token`` for its route, or the gateway's refusal."""
    method, path = event["httpMethod"], event["path"]
    request = {**load_event("authorizer"), "authorizationToken": f"Bearer {token}"}
    request["methodArn"] = f"{STAGE_ARN}/{method}{path}"
    try:
        policy = function("authorizer").lambda_handler(request, FakeContext())
    except Exception:
        return Outcome(401, by="authorizer")
    (statement,) = policy["policyDocument"]["Statement"]
    if not {f"{STAGE_ARN}/*/*", request["methodArn"]} & set(statement["Resource"]):
        return Outcome(403, by="policy")
    event = copy.deepcopy(event)
    event["requestContext"]["authorizer"] = {"principalId": policy["principalId"], **policy["context"]}
    return event


def prepared(request: Request) -> dict[str, Any] | Outcome:
    """The request's event as API Gateway passes it on (for a bearer route, through the authorizer)."""
    event = request.event()
    return event if request.token is None else authorized(request.token, event)


def send(request: Request) -> Outcome:
    event = prepared(request)
    return event if isinstance(event, Outcome) else call(request.route, event)


# The flows ------------------------------------------------------------------------------------------


@dataclass
class Request:
    route: str
    build: Callable[[], dict[str, Any]]
    token: str | None = None
    state: dict[str, Any] = field(default_factory=dict)

    def event(self) -> dict[str, Any]:
        return self.build()


def _ok(route: str, status: int, **changes: Any) -> Any:
    result = call(route, api_event(route, **changes))
    assert result.status == status, (route, result)
    return result.body


def _account() -> dict[str, Any]:
    """A registered user and one signed-in session: the state most flows start from."""
    user = _ok("register", 201, body={"email": "ada@example.com", "username": "ada", "password": PASSWORD})
    pair = _ok("login", 200, body={"email": "ada@example.com", "password": PASSWORD})
    return {"user": user, "pair": pair}


def _bearer(route: str, state: dict[str, Any], **changes: Any) -> Request:
    return Request(route, lambda: api_event(route, **changes), token=state["pair"]["access_token"], state=state)


def _prompt(state: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    request = _bearer(
        "create_prompt", state, body={"content": "mine"}, headers={"Idempotency-Key": key} if key else None
    )
    result = send(request)
    assert result.status == 201, result
    prompt: dict[str, Any] = result.body
    return prompt


def _logs_in(password: str) -> int | None:
    return call("login", api_event("login", body={"email": "ada@example.com", "password": password})).status


def _allowed(token: str) -> bool:
    return not isinstance(authorized(token, api_event("me")), Outcome)


def setup_register() -> Request:
    body = {"email": "ada@example.com", "username": "ada", "password": PASSWORD}
    return Request("register", lambda: api_event("register", body=body))


def check_register(request: Request, first: Outcome, retry: Outcome) -> None:
    assert retry.status == 201, retry
    assert get_database().users.count_documents({"email": "ada@example.com"}) == 1
    assert _logs_in(PASSWORD) == 200


def setup_login() -> Request:
    _ok("register", 201, body={"email": "ada@example.com", "username": "ada", "password": PASSWORD})
    return Request("login", lambda: api_event("login", body={"email": "ada@example.com", "password": PASSWORD}))


def check_login(request: Request, first: Outcome, retry: Outcome) -> None:
    assert retry.status == 200, retry
    assert _allowed(retry.body["access_token"])


def setup_refresh() -> Request:
    state = _account()
    body = {"refresh_token": state["pair"]["refresh_token"]}
    return Request("refresh_token", lambda: api_event("refresh_token", body=body), state=state)


def check_refresh(request: Request, first: Outcome, retry: Outcome) -> None:
    assert retry.status == 200, retry  # within REFRESH_REUSE_GRACE_SECONDS: the same successor
    if first.status == 200:
        assert retry.body["refresh_token"] == first.body["refresh_token"]
    assert _allowed(retry.body["access_token"])


def setup_logout() -> Request:
    return _bearer("logout", _account())


def check_logout(request: Request, first: Outcome, retry: Outcome) -> None:
    assert retry.status in (204, 401), retry  # a 401: the session has ended already, as asked
    assert not _allowed(request.state["pair"]["access_token"])


def setup_update_me() -> Request:
    return _bearer("update_me", _account(), body={"username": "ada lovelace"})


def check_update_me(request: Request, first: Outcome, retry: Outcome) -> None:
    assert (retry.status, retry.body["username"]) == (200, "ada lovelace"), retry


def setup_change_password() -> Request:
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    return _bearer("change_password", _account(), body=body)


def check_change_password(request: Request, first: Outcome, retry: Outcome) -> None:
    assert retry.status == 200, retry
    if first.status == 200:
        assert retry.body["refresh_token"] == first.body["refresh_token"]  # the same new session
    assert _allowed(retry.body["access_token"])
    assert (_logs_in(NEW_PASSWORD), _logs_in(PASSWORD)) == (200, 401)


def setup_delete_me() -> Request:
    state = _account()
    _prompt(state, key="k")
    _prompt(state)
    assert _logs_in("a wrong password") == 401  # a login attempt on record
    return _bearer("delete_me", state, body={"password": PASSWORD})


def check_delete_me(request: Request, first: Outcome, retry: Outcome) -> None:
    # A 401 only once the sessions are gone: then what is left is the tombstone, which the sweep removes.
    assert retry.status == 204 or (retry.status == 401 and get_database().sessions.count_documents({}) == 0), retry


def after_sweep_delete_me(request: Request) -> None:
    database = get_database()
    assert [database[n].count_documents({}) for n in ("users", *(o.name for o in OWNED))] == [0] * (1 + len(OWNED))
    assert _ok("register", 201, body={"email": "ada@example.com", "username": "ada", "password": PASSWORD})


def setup_create_prompt() -> Request:
    return _bearer("create_prompt", _account(), body={"content": "Write a haiku about Lambda."})


def check_create_prompt(request: Request, first: Outcome, retry: Outcome) -> None:
    assert retry.status == 201, retry
    # Without a key a 503 may have stored it: the retry may store a second (the README says so).
    assert get_database().prompts.count_documents({}) in (1, 2)


def setup_create_prompt_with_key() -> Request:
    headers = {"Idempotency-Key": "order-42"}
    return _bearer("create_prompt", _account(), body={"content": "Write a haiku."}, headers=headers)


def check_create_prompt_with_key(request: Request, first: Outcome, retry: Outcome) -> None:
    assert retry.status == 201, retry
    stored = [p["_id"] for p in get_database().prompts.find()]
    assert stored == [retry.body["id"]]  # at most one prompt per key, and the retry answers it
    if first.status == 201:
        assert retry.body == first.body


def setup_update_prompt() -> Request:
    state = _account()
    prompt = _prompt(state)
    return _bearer("update_prompt", state, body={"content": "changed"}, path_params={"prompt_id": prompt["id"]})


def check_update_prompt(request: Request, first: Outcome, retry: Outcome) -> None:
    assert (retry.status, retry.body["content"]) == (200, "changed"), retry


def setup_delete_prompt() -> Request:
    state = _account()
    prompt = _prompt(state)
    return _bearer("delete_prompt", state, path_params={"prompt_id": prompt["id"]})


def check_delete_prompt(request: Request, first: Outcome, retry: Outcome) -> None:
    assert retry.status in (204, 404), retry  # a 404: the first one deleted it
    assert get_database().prompts.count_documents({}) == 0


def setup_create_status_check() -> Request:
    return Request("create_status_check", lambda: api_event("create_status_check", body={"client_name": "probe"}))


def check_create_status_check(request: Request, first: Outcome, retry: Outcome) -> None:
    assert retry.status == 201, retry
    assert get_database().status_checks.count_documents({}) in (1, 2)  # at worst a second check


@dataclass(frozen=True)
class Flow:
    name: str
    route: str  # as the README's table names it
    setup: Callable[[], Request]
    check: Callable[[Request, Outcome, Outcome], None]
    after_sweep: Callable[[Request], None] | None = None


FLOWS = (
    Flow("register", "POST /api/register", setup_register, check_register),
    Flow("login", "POST /api/login", setup_login, check_login),
    Flow("refresh", "POST /api/token/refresh", setup_refresh, check_refresh),
    Flow("logout", "POST /api/logout", setup_logout, check_logout),
    Flow("update_me", "PATCH /api/me", setup_update_me, check_update_me),
    Flow("change_password", "POST /api/me/password", setup_change_password, check_change_password),
    Flow("delete_me", "DELETE /api/me", setup_delete_me, check_delete_me, after_sweep_delete_me),
    Flow("create_prompt", "POST /api/prompts", setup_create_prompt, check_create_prompt),
    Flow("create_prompt_with_key", "POST /api/prompts", setup_create_prompt_with_key, check_create_prompt_with_key),
    Flow("update_prompt", "PATCH /api/prompts/{id}", setup_update_prompt, check_update_prompt),
    Flow("delete_prompt", "DELETE /api/prompts/{id}", setup_delete_prompt, check_delete_prompt),
    Flow("create_status_check", "POST /api/status", setup_create_status_check, check_create_status_check),
)


def sweep_now() -> None:
    """The sweep, with every tombstone old enough (even one made this millisecond)."""
    sweep(now=utcnow() + timedelta(seconds=1), min_age=timedelta(0))


# The README's table ----------------------------------------------------------------------------------


def readme_may_apply() -> dict[str, bool]:
    """Route -> whether the README's "Failures and retries" table says a 503 may mean it was applied."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Failures and retries\n", 1)[1]
    rows: dict[str, bool] = {}
    for line in section.splitlines():
        match = re.match(r"\| `([A-Z]+ /api/[^`]*)`[^|]*\| (yes|no)\b", line)
        if match:
            rows[match[1]] = match[2] == "yes"
        elif rows and not line.startswith("|"):
            break
    return rows


def snapshot() -> dict[str, list[Any]]:
    database = get_database()
    return {name: sorted(map(repr, database[name].find())) for name in database.list_collection_names()}


def orphans() -> dict[str, int]:
    """Documents of OWNED collections whose user does not exist, and tombstones left."""
    database = get_database()
    users = {u["_id"] for u in database.users.find({}, {"_id": True})}
    found = {
        o.name: sum(1 for d in database[o.name].find() if d.get("user_id") not in users) for o in OWNED if o.by_user_id
    }
    found["tombstones"] = database.users.count_documents({"deleted_at": {"$ne": None}})
    return {name: n for name, n in found.items() if n}


# The matrix ------------------------------------------------------------------------------------------

MATRIX: dict[str, dict[str, str]] = {}


def run_case(flow: Flow, plan: Plan) -> tuple[Outcome, Outcome]:
    fresh_store(plan)
    request = flow.setup()
    before = snapshot()
    event = prepared(request)
    assert not isinstance(event, Outcome), event
    plan.armed = True  # the function's own operations only, not the authorizer's
    first = call(request.route, event)
    plan.armed = False
    changed = snapshot() != before
    retry = send(request)
    sweep_now()
    case = f"{plan.mode} {plan.index}: {plan.calls[plan.index]}" if plan.index is not None else "no fault"
    assert 500 not in (first.status, retry.status), (case, first, retry)
    if first.status == 503 and changed:
        assert readme_may_apply()[flow.route], f"{case}: a 503 that applied, on a route the README says never does"
    flow.check(request, first, retry)
    assert orphans() == {}, case
    if flow.after_sweep is not None:
        flow.after_sweep(request)
    return first, retry


@pytest.mark.parametrize("flow", FLOWS, ids=[f.name for f in FLOWS])
def test_every_fault_of_every_operation_ends_with_the_write_done_once_and_nothing_orphaned(flow: Flow) -> None:
    recording = Plan()
    first, retry = run_case(flow, recording)
    operations = list(recording.calls)
    assert operations, "the flow performs no database operation"
    outcomes = {"no fault": f"{first.label()} / retry {retry.label()}"}
    for index, operation in enumerate(operations):
        for mode in MODES:
            first, retry = run_case(flow, Plan(index=index, mode=mode))
            outcomes[f"{index} {operation} {mode}"] = f"{first.label()} / retry {retry.label()}"
    MATRIX[flow.name] = outcomes
    target = os.environ.get("FAULT_MATRIX_OUT")
    if target:
        Path(target).write_text(json.dumps(MATRIX, indent=1), encoding="utf-8")


def test_the_readme_table_names_every_write_route() -> None:
    assert set(readme_may_apply()) == {flow.route for flow in FLOWS}


def _interrupted_deletion_and_an_orphan(plan: Plan) -> None:
    """An account whose deletion stopped right after its tombstone, and a prompt of a user that is gone."""
    index, mode = plan.index, plan.mode
    tombstone = None
    for _ in range(2):  # once to find where the tombstone is written, once to stop right after it
        fresh_store(plan)
        state = _account()
        _prompt(state, key="k")
        event = prepared(_bearer("delete_me", state, body={"password": PASSWORD}))
        assert not isinstance(event, Outcome)
        plan.calls[:] = []
        plan.index, plan.mode, plan.armed = tombstone, "stop", True
        outcome = call("delete_me", event)
        if tombstone is None:
            tombstone = plan.calls.index("users.update_one")
    assert outcome.status is None and plan.calls[tombstone] == "users.update_one"
    plan.armed, plan.index, plan.mode, plan.calls[:] = False, index, mode, []
    get_database().prompts.insert_one({"_id": "orphan", "user_id": "gone", "content": "x"})


def test_a_sweep_failing_or_stopping_at_any_operation_is_finished_by_the_next_one() -> None:
    recording = Plan()
    _interrupted_deletion_and_an_orphan(recording)
    recording.armed = True
    sweep_now()
    recording.armed = False
    operations = list(recording.calls)
    assert orphans() == {} and operations
    for index in range(len(operations)):
        for mode in MODES:
            plan = Plan(index=index, mode=mode)
            _interrupted_deletion_and_an_orphan(plan)
            plan.armed = True
            try:
                sweep_now()
            except (ServiceUnavailable, Stopped):  # a failed run (its alarm), or a killed one
                pass
            else:  # only a database error on a multi-document write, which retry_once sends again
                assert mode != "stop" and operations[index].endswith(("update_many", "delete_many")), (index, mode)
            plan.armed = False

            sweep_now()

            assert orphans() == {}, (index, operations[index], mode)
            assert get_database().users.count_documents({}) == 0
