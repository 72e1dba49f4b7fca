"""make smoke's journey (``python -m contract.smoke --url``) against the local API, as it walks a deployed
stack: every step with its status, one request each, nothing left behind. Through a forwarding proxy in
front of the API that answers some requests itself: a step failing halfway still ends with the account
deleted; a clean-up that fails names the account left; a registration without an answer is cleaned up
when it applied; a 429 is waited for and retried once, or fails when its Retry-After is long."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from local_api.harness import HOST, child_environment
from tests.integration.helpers import JWT_SECRET, PASSWORD, ROOT, LocalApi, running

ORIGINS = ("https://app.example.com", "https://admin.example.com")
# Every step of the journey, in order, with the status it expects.
JOURNEY = [
    ("health", "200"),
    ("register", "201"),
    ("login", "200"),
    ("me", "200"),
    ("create prompt (keyed)", "201"),
    ("same key again: same prompt", "201"),
    ("create second prompt", "201"),
    ("list, limit=1", "200"),
    ("list, next_cursor", "200"),
    ("get prompt", "200"),
    ("update prompt", "200"),
    ("delete prompt", "204"),
    ("deleted prompt is gone", "404"),
    ("list status checks", "200"),
    ("invalid status check refused", "422"),
    ("refresh", "200"),
    ("no token refused", "401"),
    ("forged token refused", "401"),
    ("logout", "204"),
    ("token after logout refused", "401"),
    ("preflight", "204"),
    ("preflight", "204"),
    ("login again", "200"),
    ("delete account", "204"),
]
AUTH_ROUTES = {"/api/register", "/api/login", "/api/token/refresh"}  # the throttled ones the journey calls
_STEP_LINE = re.compile(  # result, step, status, time (columns of fixed width), note
    r"^  (?P<outcome>ok|FAIL|skip) +(?P<name>.{30}) (?P<status>[ \d-]{3}) .{8}(?:  (?P<note>.*))?$"
)
_ACCOUNT = re.compile(r"^smoke: \S+, throwaway account (?P<email>smoke-[0-9a-f]{12}@example\.com)$")


@pytest.fixture(scope="module")
def cors_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    """The project's API, throwaway store, two allowed CORS origins."""
    log = tmp_path_factory.mktemp("local-api-smoke") / "output.log"
    with running(
        "--in-memory", env={"JWT_SECRET": JWT_SECRET, "CORS_ALLOW_ORIGINS": ",".join(ORIGINS)}, log=log
    ) as api:
        yield api


@dataclass
class Run:
    """One run of the smoke tool: its exit status, its step lines, its summary, its throwaway email."""

    status: int
    output: str

    @property
    def steps(self) -> list[dict[str, str]]:
        matches = (_STEP_LINE.match(line) for line in self.output.splitlines())
        return [{k: (v or "").strip() for k, v in m.groupdict().items()} for m in matches if m]

    def step(self, name: str) -> dict[str, str]:
        (found,) = [s for s in self.steps if s["name"] == name]
        return found

    @property
    def summary(self) -> str:
        return self.output.splitlines()[-1]

    @property
    def email(self) -> str:
        match = _ACCOUNT.match(self.output.splitlines()[0])
        assert match, self.output
        return match["email"]


def smoke(url: str, *args: str) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "contract.smoke", "--url", url, *args],
        cwd=ROOT,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stderr == ""
    return Run(done.returncode, done.stdout)


def account_exists(api: LocalApi, email: str) -> bool:
    """Whether ``email`` is still an account: registering it is a 409 while it is taken, and a 201 once its
    deletion is complete (the smoke tool never prints its random password, so a login cannot tell)."""
    probe = api.request("POST", "/api/register", json={"email": email, "username": "probe", "password": PASSWORD})
    assert probe.status_code in (201, 409), probe.text
    return probe.status_code == 409


@dataclass(frozen=True)
class Fault:
    """What the proxy does with a request instead of forwarding it: answers ``status`` with ``headers``
    and a ``{"detail"}`` body; without a status, closes the connection with no answer (after forwarding the
    request, with ``forward``)."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    forward: bool = False


Faults = Callable[[str, str], Fault | None]


class FaultProxy:
    """An HTTP proxy in front of the local API: forwards every request but those ``faults(method, path)``
    gives a fault for, and records what it forwarded."""

    def __init__(self, upstream: LocalApi, faults: Faults) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = faults(self.command, self.path)
                if fault is None or fault.forward:
                    answer = proxy.forward(self.command, self.path, list(self.headers.items()), body)
                if fault is None:
                    self.reply(*answer)
                elif fault.status is not None:
                    headers = {**fault.headers, "Content-Type": "application/json"}
                    self.reply(fault.status, headers, b'{"detail": "injected"}')
                else:
                    self.close_connection = True  # no answer at all

            def reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_DELETE = do_OPTIONS = handle_one

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
                pass

        self.upstream = upstream
        self.forwarded: list[tuple[str, str]] = []
        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        self.forwarded.append((method, path))
        connection = http.client.HTTPConnection(HOST, self.upstream.port, timeout=30)
        try:
            sent = {k: v for k, v in headers if k.lower() not in {"host", "connection"}}
            connection.request(method, path, body=body or None, headers=sent)
            response = connection.getresponse()
            skipped = {"connection", "transfer-encoding", "content-length", "date", "server"}
            kept = {k: v for k, v in response.getheaders() if k.lower() not in skipped}
            return response.status, kept, response.read()
        finally:
            connection.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def proxy(cors_api: LocalApi) -> Iterator[Callable[[Faults], FaultProxy]]:
    started: list[FaultProxy] = []

    def start(faults: Faults) -> FaultProxy:
        started.append(FaultProxy(cors_api, faults))
        return started[-1]

    yield start
    for each in started:
        each.close()


def status_checks(api: LocalApi) -> list[dict[str, object]]:
    response = api.request("GET", "/api/status", params={"limit": "100"})
    assert response.status_code == 200
    items: list[dict[str, object]] = response.json()["items"]
    return items


# The journey --------------------------------------------------------------------------------------


def test_smoke_passes_every_step_and_leaves_no_account(cors_api: LocalApi) -> None:
    checks_before = status_checks(cors_api)
    requests_before = len(cors_api.request_lines())

    run = smoke(cors_api.base_url, *(f"--origin={origin}" for origin in ORIGINS))

    assert run.status == 0, run.output
    assert [(s["name"], s["status"]) for s in run.steps] == JOURNEY
    assert {s["outcome"] for s in run.steps} == {"ok"}
    assert [s["note"] for s in run.steps if s["name"] == "preflight"] == list(ORIGINS)
    assert run.summary.startswith(f"smoke: passed, {len(JOURNEY)} steps in ")
    assert run.summary.endswith("; the throwaway account and everything of it deleted")
    # One request a step, four of them to the throttled auth routes; the invalid status check stored nothing.
    requests = cors_api.request_lines()[requests_before:]
    assert len(requests) == len(JOURNEY)
    assert sum(r["path"] in AUTH_ROUTES for r in requests) == 4
    assert status_checks(cors_api) == checks_before
    assert not account_exists(cors_api, run.email)


def test_smoke_without_an_origin_skips_the_preflight_and_says_so(cors_api: LocalApi) -> None:
    run = smoke(cors_api.base_url)

    assert run.status == 0, run.output
    assert run.step("preflight") == {
        "outcome": "skip",
        "name": "preflight",
        "status": "-",
        "note": "no origin given (--origin; with --env, the stack's CorsAllowOrigin)",
    }
    assert not account_exists(cors_api, run.email)


def test_smoke_fails_on_an_origin_the_api_does_not_allow(cors_api: LocalApi) -> None:
    run = smoke(cors_api.base_url, "--origin", "https://elsewhere.example.com")

    assert run.status == 1
    assert run.step("preflight")["outcome"] == "FAIL"
    assert run.step("preflight")["note"].startswith(
        "https://elsewhere.example.com; Access-Control-Allow-Origin is None"
    )
    assert run.step("delete account")["outcome"] == "ok"
    assert not account_exists(cors_api, run.email)


# Failures -----------------------------------------------------------------------------------------


def test_a_step_failing_halfway_stops_the_journey_and_the_account_is_still_deleted(
    cors_api: LocalApi, proxy: Callable[[Faults], FaultProxy]
) -> None:
    def faults(method: str, path: str) -> Fault | None:
        return Fault(500) if method == "PATCH" and path.startswith("/api/prompts/") else None

    run = smoke(proxy(faults).url)

    assert run.status == 1
    names = [s["name"] for s in run.steps]
    assert names == [name for name, _ in JOURNEY[: names.index("update prompt") + 1]] + [
        "login again",
        "delete account",
    ]
    assert run.step("update prompt") == {
        "outcome": "FAIL",
        "name": "update prompt",
        "status": "500",
        "note": 'expected 200: {"detail": "injected"}',
    }
    assert (run.step("login again")["outcome"], run.step("delete account")["status"]) == ("ok", "204")
    assert re.match(r"smoke: FAILED at update prompt \(500\); 12 steps passed in [\d.]+ s", run.summary)
    assert run.summary.endswith("; the throwaway account and everything of it deleted")
    assert not account_exists(cors_api, run.email)


def test_a_clean_up_that_fails_names_the_account_left_behind(
    cors_api: LocalApi, proxy: Callable[[Faults], FaultProxy]
) -> None:
    def faults(method: str, path: str) -> Fault | None:
        return Fault(503) if (method, path) == ("DELETE", "/api/me") else None

    run = smoke(proxy(faults).url)

    assert run.status == 1
    assert run.step("delete account") == {
        "outcome": "FAIL",
        "name": "delete account",
        "status": "503",
        "note": 'expected 204: {"detail": "injected"}; retried after a 503',
    }
    assert run.summary.startswith("smoke: FAILED at delete account (503); 21 steps passed")
    assert f"LEFT BEHIND: the account {run.email}, with whatever it owns" in run.summary
    assert account_exists(cors_api, run.email)


def test_a_429_is_waited_for_and_retried_once(cors_api: LocalApi, proxy: Callable[[Faults], FaultProxy]) -> None:
    throttled: list[str] = []

    def faults(method: str, path: str) -> Fault | None:
        if (method, path) == ("POST", "/api/login") and not throttled:
            throttled.append(path)
            return Fault(429, {"Retry-After": "0"})
        return None

    run = smoke(proxy(faults).url)

    assert run.status == 0, run.output
    assert run.step("login") == {"outcome": "ok", "name": "login", "status": "200", "note": "after a 429, waited 0.0 s"}
    assert not account_exists(cors_api, run.email)


def test_a_429_with_a_long_retry_after_fails_with_what_throttles_the_api(
    cors_api: LocalApi, proxy: Callable[[Faults], FaultProxy]
) -> None:
    def faults(method: str, path: str) -> Fault | None:
        return Fault(429, {"Retry-After": "900"}) if (method, path) == ("POST", "/api/token/refresh") else None

    started = proxy(faults)
    run = smoke(started.url)

    assert run.status == 1
    assert run.step("refresh")["status"] == "429"
    assert "wait a few minutes and run again" in run.step("refresh")["note"]
    assert ("POST", "/api/token/refresh") not in started.forwarded
    assert not account_exists(cors_api, run.email)


@pytest.mark.parametrize(
    ("forwarded", "exists", "summary_end"),
    [
        (True, True, "; the throwaway account and everything of it deleted"),
        (False, False, "; no account was made"),
    ],
    ids=["registered", "not-registered"],
)
def test_a_registration_without_an_answer_is_cleaned_up_if_it_applied(
    cors_api: LocalApi, proxy: Callable[[Faults], FaultProxy], forwarded: bool, exists: bool, summary_end: str
) -> None:
    def faults(method: str, path: str) -> Fault | None:
        return Fault(forward=forwarded) if (method, path) == ("POST", "/api/register") else None

    run = smoke(proxy(faults).url)

    assert run.status == 1
    assert [(s["name"], s["outcome"]) for s in run.steps] == [
        ("health", "ok"),
        ("register", "FAIL"),
        ("login again", "ok"),
        *([("delete account", "ok")] if exists else []),
    ]
    assert run.step("register")["note"].startswith("no answer: ")
    assert run.step("login again")["status"] == ("200" if exists else "401")
    assert run.summary.startswith("smoke: FAILED at register (no answer); ")
    assert run.summary.endswith(summary_end)
    assert not account_exists(cors_api, run.email)
