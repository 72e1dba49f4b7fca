"""``python -m contract.smoke`` (``make smoke``): a short journey through a running API, as a client walks it.

Against any base URL (``--url``), or a deployed stack's (``--env``: the ``ApiUrl`` output of the
environment's stack, named by samconfig.toml, read with boto3's CloudFormation client): health; a
throwaway account (``smoke-<random>@example.com``, a random password) registered, logged in, read;
a prompt created with an ``Idempotency-Key`` and the request repeated (the same prompt, 201); a second
prompt, both listed one per page by following ``next_cursor``; one read, updated, deleted and gone;
the status checks listed and an invalid one refused (422: the API has no way to delete a status
check, so none is stored); a refresh; 401s without a token, with a forged one, and with a token of
the session after logout; the CORS preflight for an allowed origin; and last, in any case, the
account deleted (``DELETE /api/me``, after a new login when the session is gone), which removes its
prompts and sessions. When that fails, the summary names the account left behind.

Only the API's own documented requests: no database, no secret, nothing of ``shared`` or of the
local API, so that it runs against any URL (also with the SAM CLI venv's Python, as ``make deploy``
runs ``--print-command``). It sends few requests, four of them to the throttled auth routes; a 429
waits a short ``Retry-After`` (or a second) and is retried once.

Each step prints one line (result, step, status, milliseconds); the run ends with a summary. Exit
status 0 when every step passed and the account was deleted, 1 otherwise, 2 for a usage error or a
stack that cannot be read.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import secrets
import shlex
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import Message
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMCONFIG = ROOT / "samconfig.toml"
EMAIL_DOMAIN = "example.com"  # reserved (RFC 2606): nothing is ever delivered to it
USER_AGENT = "prompt-api-smoke/1"  # the WAF's common rule set blocks requests without a User-Agent
TIMEOUT_S = 30.0  # above API Gateway's 29 s, so the gateway's own 504 is what a slow request shows
RETRY_AFTER_MAX_S = 10.0
THROTTLE_PAUSE_S = 1.0  # API Gateway's stage throttle sends no Retry-After
ANY_ORIGIN_SAMPLE = "https://example.com"  # what is sent as Origin when the stack allows "*"
# Header names as the API documents them (docs/openapi.json, README's CORS section).
IDEMPOTENCY_KEY = "Idempotency-Key"
RETRY_AFTER = "Retry-After"

Out = Callable[[str], None]
NO_ANSWER = (OSError, http.client.HTTPException)  # refused, reset, timed out, TLS, a broken response


class SetupError(Exception):
    """Raised when the journey cannot start: no stack, no ``ApiUrl`` output, no AWS region or credentials."""


class Mismatch(Exception):
    """Raised when a step's answer is not the one the API documents."""


class Stopped(Exception):
    """Raised when a step failed, so that the journey stops there (the clean-up still runs)."""


# HTTP ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer: status, headers, body, and how long it took (the last attempt, when it was retried)."""

    status: int
    headers: Message
    body: bytes
    ms: float
    retry: str = ""  # what was retried, and why

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise Mismatch(f"body is not JSON: {self.body[:80]!r}") from e


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is an answer to check, not to follow


class Client:
    """Requests to ``base_url`` (``/api/...`` paths are appended to it); a 429 is retried once, after a pause."""

    def __init__(self, base_url: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.sleep = sleep
        self.opener = urllib.request.build_opener(_NoRedirects)

    def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Reply:
        url = self.base_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        sent = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(url, data=data, headers=sent, method=method)  # noqa: S310 - http(s) only
        reply = self._once(request)
        if reply.status != 429:
            return reply
        pause = throttle_pause(reply.headers.get(RETRY_AFTER))
        if pause is None:
            return reply
        self.sleep(pause)
        return replace(self._once(request), retry=f"after a 429, waited {pause:.1f} s")

    def _once(self, request: urllib.request.Request) -> Reply:
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=TIMEOUT_S) as response:
                status, headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read()
            e.close()
        return Reply(status, headers, body, (time.perf_counter() - started) * 1000)


def throttle_pause(retry_after: str | None) -> float | None:
    """Seconds to wait before retrying a 429, or None when its ``Retry-After`` is too long to wait."""
    if retry_after is None:
        return THROTTLE_PAUSE_S
    try:
        seconds = float(retry_after)
    except ValueError:
        return None  # an HTTP date: the API sends seconds, so this is someone else's long throttle
    return max(seconds, 0.0) if seconds <= RETRY_AFTER_MAX_S else None


def forged_token(user_id: str) -> str:
    """A well-formed HS256 JWT for ``user_id`` with the API's claims, signed with a key nobody has."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {
        **{"sub": user_id, "sid": str(uuid.uuid4()), "jti": str(uuid.uuid4()), "iat": now, "exp": now + 300},
        **{"iss": "prompt-api", "aud": "prompt-api"},
    }
    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}"
    signature = hmac.new(secrets.token_bytes(32), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


# Steps --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Result:
    """One step's line: ok, FAIL or skip, the status and time of its answer, and a note."""

    name: str
    outcome: str
    status: int | None = None
    ms: float | None = None
    note: str = ""

    def line(self) -> str:
        status = str(self.status) if self.status is not None else "-"
        ms = f"{self.ms:.0f} ms" if self.ms is not None else ""
        return f"  {self.outcome:<5} {self.name:<30} {status:>3} {ms:>8}  {self.note}".rstrip()


def _notes(*notes: str) -> str:
    return "; ".join(note for note in notes if note)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


def unexpected(reply: Reply, statuses: Collection[int]) -> str:
    """Why an answer's status is not one of ``statuses``: the error's body (never a success's, which may
    hold tokens), and what a throttle or the WAF means."""
    message = f"expected {' or '.join(map(str, statuses))}"
    if reply.status < 400:
        return message
    text = reply.body.decode("utf-8", errors="replace").strip()
    message += f": {text[:200]}{'...' if len(text) > 200 else ''}"
    if reply.status == 429:
        message += (
            " (throttled even after the pause: in prod the auth routes take 10 requests/s per stage and the WAF"
            " 100 auth requests per 5 minutes per address; wait a few minutes and run again)"
        )
    elif reply.status == 403:
        message += " (a WAF block? in prod its rate rules count per address over 5 minutes)"
    return message


@dataclass
class Journey:
    """The walk through the API with one throwaway account: its results, and what it left."""

    client: Client
    origins: Sequence[str] | None  # None: no preflight, for the reason in skip_preflight
    out: Out
    skip_preflight: str = ""
    email: str = field(default_factory=lambda: f"smoke-{secrets.token_hex(6)}@{EMAIL_DOMAIN}")
    password: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    results: list[Result] = field(default_factory=list)
    account_may_exist: bool = False  # from the first register request on
    account_created: bool = False  # register answered 201
    account_deleted: bool = False
    left_behind: str = ""

    def step(
        self,
        name: str,
        call: Callable[[], Reply],
        statuses: int | Collection[int],
        check: Callable[[Reply], None] | None = None,
        *,
        note: str = "",
    ) -> Reply:
        """One request, its expected status(es) and a check of its answer: one line; ``Stopped`` if it failed."""
        expected = (statuses,) if isinstance(statuses, int) else statuses
        try:
            reply = call()
        except NO_ANSWER as e:
            self._record(Result(name, "FAIL", note=_notes(note, f"no answer: {e}")))
            raise Stopped(name) from e
        try:
            expect(reply.status in expected, unexpected(reply, expected))
            if check is not None:
                check(reply)
        except Mismatch as e:
            self._record(Result(name, "FAIL", reply.status, reply.ms, _notes(note, str(e), reply.retry)))
            raise Stopped(name) from e
        self._record(Result(name, "ok", reply.status, reply.ms, _notes(note, reply.retry)))
        return reply

    def _record(self, result: Result) -> None:
        self.results.append(result)
        self.out(result.line())

    def run(self) -> bool:
        """The journey, then the clean-up whatever happened, then the summary; whether all passed."""
        self.out(f"smoke: {self.client.base_url}, throwaway account {self.email}")
        started = time.perf_counter()
        stopped = False
        try:
            self.walk()
        except Stopped:
            stopped = True
        except KeyboardInterrupt:
            self._record(Result("interrupted", "FAIL"))
            stopped = True
        finally:
            cleaned = self.clean_up()
        self.out(self.summary(time.perf_counter() - started))
        return not stopped and cleaned

    def walk(self) -> None:
        send = self.client.send
        self.step("health", lambda: send("GET", "/api/health"), 200, _healthy)

        self.account_may_exist = True
        account = {"email": self.email, "username": "smoke test", "password": self.password}
        registered = self.step("register", lambda: send("POST", "/api/register", body=account), 201, self._registered)
        user_id = registered.json()["id"]
        pair = self.log_in("login").json()
        token = pair["access_token"]
        self.step("me", lambda: send("GET", "/api/me", token=token), 200, _same(registered))

        first_body = {"content": "smoke test: first prompt"}
        first_key = {IDEMPOTENCY_KEY: f"smoke-{uuid.uuid4()}"}
        create_first = partial(send, "POST", "/api/prompts", body=first_body, token=token, headers=first_key)
        first = self.step("create prompt (keyed)", create_first, 201, _prompt_of(user_id, first_body))
        self.step("same key again: same prompt", create_first, 201, _same(first))
        second_body = {"content": "smoke test: second prompt", "response": "a response"}
        second_key = {IDEMPOTENCY_KEY: f"smoke-{uuid.uuid4()}"}  # a key makes a retried 429 safe
        create_second = partial(send, "POST", "/api/prompts", body=second_body, token=token, headers=second_key)
        second = self.step("create second prompt", create_second, 201, _prompt_of(user_id, second_body))

        one = {"limit": "1"}
        page = self.step(
            "list, limit=1",
            lambda: send("GET", "/api/prompts", token=token, query=one),
            200,
            _page_of(second, more=True),
        )
        more = {**one, "cursor": page.json()["next_cursor"]}
        self.step(
            "list, next_cursor",
            lambda: send("GET", "/api/prompts", token=token, query=more),
            200,
            _page_of(first, more=False),
        )

        path = f"/api/prompts/{first.json()['id']}"
        self.step("get prompt", lambda: send("GET", path, token=token), 200, _same(first))
        change = {"content": "smoke test: first prompt, updated"}
        self.step("update prompt", lambda: send("PATCH", path, body=change, token=token), 200, _updated(first, change))
        self.step("delete prompt", lambda: send("DELETE", path, token=token), 204)
        self.step("deleted prompt is gone", lambda: send("GET", path, token=token), 404, _has_detail)

        # The API cannot delete a status check: list them, and send an invalid one, which stores nothing.
        self.step("list status checks", lambda: send("GET", "/api/status", query=one), 200, _page_shape)
        self.step("invalid status check refused", lambda: send("POST", "/api/status", body={}), 422, _validation_error)

        spend = {"refresh_token": pair["refresh_token"]}
        refreshed = self.step("refresh", lambda: send("POST", "/api/token/refresh", body=spend), 200, _token_pair)
        # An access token of the same session that the gateway has never seen: after logout no authorizer
        # cache (AuthorizerCacheSeconds) can hold an Allow for it.
        unseen_token = refreshed.json()["access_token"]

        self.step("no token refused", lambda: send("GET", "/api/me"), 401, _has_detail)
        forged = forged_token(user_id)
        self.step("forged token refused", lambda: send("GET", "/api/me", token=forged), 401, _has_detail)
        self.step("logout", lambda: send("POST", "/api/logout", token=token), 204)
        self.step("token after logout refused", lambda: send("GET", "/api/me", token=unseen_token), 401, _has_detail)

        self.preflights()

    def _registered(self, reply: Reply) -> None:
        self.account_created = True
        user = reply.json()
        expect(user.get("email") == self.email and user.get("is_active") is True, "not the account registered")

    def log_in(self, name: str, statuses: Collection[int] = (200,)) -> Reply:
        credentials = {"email": self.email, "password": self.password}
        call = partial(self.client.send, "POST", "/api/login", body=credentials)
        return self.step(name, call, statuses, lambda reply: _token_pair(reply) if reply.status == 200 else None)

    def preflights(self) -> None:
        if self.origins is None:
            self._record(Result("preflight", "skip", note=self.skip_preflight))
            return
        for origin in self.origins:
            headers = {
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": f"authorization,content-type,{IDEMPOTENCY_KEY.lower()}",
            }
            call = partial(self.client.send, "OPTIONS", "/api/prompts", headers=headers)
            self.step("preflight", call, 204, _allows(origin), note=origin)

    def clean_up(self) -> bool:
        """Delete the account from a new session (the journey's may have ended, or failed halfway), which
        removes its prompts and sessions; whether nothing is left."""
        if not self.account_may_exist:
            return True
        try:
            # Without a 201 the registration may not have applied: then the login's 401 says so.
            login = self.log_in("login again", (200,) if self.account_created else (200, 401))
            if login.status == 401:
                return True
            token = login.json()["access_token"]
            self.step("delete account", partial(self._delete_me, token), 204)
            self.account_deleted = True
            return True
        except Stopped:
            self.left_behind = (
                f"LEFT BEHIND: the account {self.email}, with whatever it owns: an operator removes it (README,"
                " Smoke test); a deletion that began (a 503) the sweep finishes within 15 minutes"
            )
            return False

    def _delete_me(self, token: str) -> Reply:
        """``DELETE /api/me`` with the password; after a 5xx or no answer, once more, as the README's
        "Failures and retries" says (the retry completes a deletion that began)."""
        body = {"password": self.password}
        try:
            reply = self.client.send("DELETE", "/api/me", body=body, token=token)
            if reply.status < 500:
                return reply
            first = f"retried after a {reply.status}"
        except NO_ANSWER as e:
            first = f"retried after no answer ({e})"
        self.client.sleep(THROTTLE_PAUSE_S)
        retried = self.client.send("DELETE", "/api/me", body=body, token=token)
        return replace(retried, retry=_notes(first, retried.retry))

    def summary(self, seconds: float) -> str:
        passed = sum(r.outcome == "ok" for r in self.results)
        failed = [f"{r.name} ({r.status or 'no answer'})" for r in self.results if r.outcome == "FAIL"]
        if self.left_behind:
            left = self.left_behind
        elif self.account_deleted:
            left = "the throwaway account and everything of it deleted"
        else:
            left = "no account was made"
        if not failed:
            return f"smoke: passed, {passed} steps in {seconds:.1f} s; {left}"
        return f"smoke: FAILED at {', '.join(failed)}; {passed} steps passed in {seconds:.1f} s; {left}"


# Checks of answers --------------------------------------------------------------------------------


def _healthy(reply: Reply) -> None:
    body = reply.json()
    expect(body.get("status") == "ok" and body.get("database") == "ok", f"not healthy: {body}")


def _same(earlier: Reply) -> Callable[[Reply], None]:
    def check(reply: Reply) -> None:
        expect(reply.json() == earlier.json(), "not the same as the earlier answer")

    return check


def _prompt_of(user_id: str, sent: Mapping[str, Any]) -> Callable[[Reply], None]:
    def check(reply: Reply) -> None:
        prompt = reply.json()
        expect(prompt.get("user_id") == user_id, "not the caller's prompt")
        expect(prompt.get("content") == sent["content"], "content differs from what was sent")
        expect(prompt.get("response") == sent.get("response"), "response differs from what was sent")

    return check


def _updated(earlier: Reply, change: Mapping[str, Any]) -> Callable[[Reply], None]:
    def check(reply: Reply) -> None:
        before, after = earlier.json(), reply.json()
        expect(after.get("id") == before["id"] and after.get("content") == change["content"], "update not applied")
        moved = datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(before["updated_at"])
        expect(moved, "updated_at did not move")

    return check


def _page_shape(reply: Reply) -> None:
    page = reply.json()
    expect(isinstance(page.get("items"), list) and "next_cursor" in page, "not a page {items, next_cursor}")


def _page_of(prompt: Reply, *, more: bool) -> Callable[[Reply], None]:
    def check(reply: Reply) -> None:
        _page_shape(reply)
        page = reply.json()
        expect([item.get("id") for item in page["items"]] == [prompt.json()["id"]], "not the prompt expected here")
        expect((page["next_cursor"] is not None) == more, "no next_cursor" if more else "next_cursor on the last page")

    return check


def _has_detail(reply: Reply) -> None:
    body = reply.json()
    expect(isinstance(body, dict) and isinstance(body.get("detail"), str), 'no {"detail": "..."} body')


def _validation_error(reply: Reply) -> None:
    detail = reply.json().get("detail")
    valid = isinstance(detail, list) and bool(detail) and all({"loc", "msg", "type"} <= set(d) for d in detail)
    expect(valid, "no list of {loc, msg, type} in detail")


def _token_pair(reply: Reply) -> None:
    pair = reply.json()
    expect(pair.get("token_type") == "bearer", "token_type is not bearer")
    expect(all(isinstance(pair.get(k), str) for k in ("access_token", "refresh_token")), "no token pair")
    expect("no-store" in (reply.headers.get("Cache-Control") or ""), "tokens without Cache-Control: no-store")


def _allows(origin: str) -> Callable[[Reply], None]:
    def check(reply: Reply) -> None:
        allowed = reply.headers.get("Access-Control-Allow-Origin")
        expect(allowed in (origin, "*"), f"Access-Control-Allow-Origin is {allowed!r}, not {origin!r}")
        if allowed == origin:
            expect("origin" in (reply.headers.get("Vary") or "").lower(), "no Vary: Origin")
        methods = {m.strip().upper() for m in (reply.headers.get("Access-Control-Allow-Methods") or "").split(",")}
        expect("POST" in methods, "POST is not an allowed method")

    return check


# Where the API is ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """The base URL to walk, and the CORS origins to preflight (None: none known, for the reason given)."""

    url: str
    origins: tuple[str, ...] | None = None
    no_origins: str = "no origin given (--origin; with --env, the stack's CorsAllowOrigin)"


def stack_name(environment: str, samconfig: Path = SAMCONFIG) -> str:
    """The stack of ``environment``, as the Makefile's ``STACK_NAME`` reads it: ``[<env>.global.parameters]``."""
    config = tomllib.loads(samconfig.read_text(encoding="utf-8"))
    name = config.get(environment, {}).get("global", {}).get("parameters", {}).get("stack_name")
    if not isinstance(name, str) or not name:
        raise SetupError(f"samconfig.toml has no stack_name in [{environment}.global.parameters]")
    return name


def origins_of(cors_allow_origin: str) -> tuple[str, ...]:
    """The origins to preflight for the stack's ``CorsAllowOrigin``: each one listed, or a sample for ``*``."""
    listed = tuple(o.strip() for o in cors_allow_origin.split(",") if o.strip())
    return (ANY_ORIGIN_SAMPLE,) if listed == ("*",) else listed


def read_stack(cloudformation: Any, name: str) -> Target:
    """The stack's ``ApiUrl`` output and ``CorsAllowOrigin`` parameter."""
    try:
        (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except cloudformation.exceptions.ClientError as e:
        raise SetupError(f"stack {name}: {e.response['Error']['Message']}") from e
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    if "ApiUrl" not in outputs:
        raise SetupError(f"stack {name} ({stack['StackStatus']}) has no ApiUrl output")
    cors = parameters.get("CorsAllowOrigin")
    if cors is None:
        return Target(outputs["ApiUrl"], no_origins=f"stack {name} has no CorsAllowOrigin parameter")
    return Target(outputs["ApiUrl"], origins_of(cors))


def target_of_stack(environment: str, *, region: str | None) -> Target:
    import boto3  # only for --env: a walk against a URL needs no AWS SDK
    from botocore.exceptions import BotoCoreError

    name = stack_name(environment)
    try:
        return read_stack(boto3.session.Session(region_name=region).client("cloudformation"), name)
    except BotoCoreError as e:  # no region, no credentials, no network
        raise SetupError(f"stack {name}: {e}") from e


def smoke_command(target: Target, environment: str | None) -> str:
    """The ``make smoke`` command for ``target`` (and, for a stack, the shorter one that reads it again)."""
    origins = f" ORIGIN={shlex.quote(' '.join(target.origins))}" if target.origins else ""
    command = f"make smoke URL={shlex.quote(target.url)}{origins}"
    return f"{command} (or: make smoke ENV={environment})" if environment else command


def main(argv: Sequence[str] | None = None, out: Out = print) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract.smoke", description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="the API's base URL (routes start with /api), e.g. a stack's ApiUrl")
    where.add_argument("--env", help="a samconfig.toml environment (dev, prod): its stack's ApiUrl and CorsAllowOrigin")
    parser.add_argument("--origin", action="append", help="an allowed CORS origin to preflight (repeatable)")
    parser.add_argument("--region", help="the stack's AWS region (with --env; default: boto3's)")
    parser.add_argument("--print-command", action="store_true", help="print the make smoke command, walk nothing")
    args = parser.parse_args(argv)
    try:
        target = target_of_stack(args.env, region=args.region) if args.env else Target(args.url)
    except SetupError as e:
        print(f"smoke: {e}", file=sys.stderr)
        return 2
    if not target.url.startswith(("http://", "https://")):
        parser.error(f"--url must be http:// or https://, not {target.url!r}")
    if args.origin:
        target = Target(target.url, tuple(args.origin))
    if args.print_command:
        out(f"Smoke test: {smoke_command(target, args.env)}")
        return 0
    journey = Journey(Client(target.url), target.origins, out, skip_preflight=target.no_origins)
    return 0 if journey.run() else 1


if __name__ == "__main__":
    sys.exit(main())
