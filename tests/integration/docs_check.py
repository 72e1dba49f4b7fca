"""``python -m tests.integration.docs_check`` (``make docs-check``): does Swagger UI at ``/api/docs``
show every route, and does its Authorize work?

Starts the local API (throwaway store, any free port), renders ``/api/docs`` in
headless Chromium, and checks that every method and path of ``/api/openapi.json`` is in the
rendered page; saves a screenshot (``out/docs.png``) to look at. Then, driving the page over the
DevTools protocol, it pastes a fresh user's ``access_token`` into Authorize and runs
``GET /api/me`` with "Try it out": the UI must get a 200 and keep the token (persistAuthorization).
Needs a Chromium binary (Debian: ``apt-get install chromium``); ``make test`` does not.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Any

from local_api.docs import DOCS_PATH, DOCUMENT_PATH
from local_api.harness import LocalApiProcess

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
RENDER_BUDGET_MS = 10_000  # virtual time for Swagger UI to fetch the document and render it
BROWSER_TIMEOUT_S = 60.0
Operation = tuple[str, str]  # ("GET", "/api/me")
TRY_ME_OPERATION = "operations-auth-getMe"  # Swagger UI's id: operations-<tag>-<operationId>

# Runs in the page: Authorize with the token, then "Try it out" on GET /api/me, as a user would click.
AUTHORIZE_AND_TRY_ME = """(async () => {
  const until = async (find, what) => {
    for (let i = 0; i < 200; i++) {
      const found = find();
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error("timed out waiting for " + what);
  };
  const $ = (selector) => document.querySelector(selector);
  (await until(() => $(".auth-wrapper .btn.authorize"), "the Authorize button")).click();
  const input = await until(() => $(".modal-ux input"), "the bearerAuth value field");
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, TOKEN);
  input.dispatchEvent(new Event("input", {bubbles: true}));
  $(".modal-ux .auth-btn-wrapper .btn.authorize").click();
  (await until(() => $(".modal-ux .btn-done"), "the Close button")).click();
  const operation = await until(() => document.getElementById(OPERATION), OPERATION);
  operation.querySelector(".opblock-summary-control").click();
  (await until(() => operation.querySelector(".try-out__btn"), "Try it out")).click();
  (await until(() => operation.querySelector(".btn.execute"), "Execute")).click();
  const status = await until(
    () => operation.querySelector(".live-responses-table tr.response .response-col_status"), "the response");
  return {status: status.textContent.trim(), persisted: localStorage.getItem("authorized") || ""};
})()"""


def find_chromium() -> str | None:
    """The first Chromium (or Chrome) binary on PATH."""
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


@contextmanager
def local_api(template: Path) -> Iterator[str]:
    """``python -m local_api`` serving ``template`` with a throwaway store on a free port; yields its base URL."""
    server = LocalApiProcess("--template", str(template.resolve()), "--in-memory", env={"BCRYPT_ROUNDS": "4"})
    try:
        server.wait_until_healthy()
        yield server.base_url
    finally:
        server.stop()


def documented_operations(base_url: str) -> set[Operation]:
    """Every method and path of the served document."""
    with urllib.request.urlopen(base_url + DOCUMENT_PATH, timeout=30) as response:  # noqa: S310 - our own http URL
        document = json.load(response)
    return {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}


class _OperationParser(HTMLParser):
    """Collects Swagger UI's operation summaries: a method span, then a path span with ``data-path``."""

    def __init__(self) -> None:
        super().__init__()
        self.methods: list[str] = []
        self.paths: list[str] = []
        self._in_method = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        self._in_method = "opblock-summary-method" in classes
        if "opblock-summary-path" in classes:
            self.paths.append(dict(attrs).get("data-path") or "")

    def handle_data(self, data: str) -> None:
        if self._in_method:
            self.methods.append(data.strip().upper())
            self._in_method = False


def rendered_operations(dom: str) -> set[Operation]:
    """The operations Swagger UI rendered in ``dom``."""
    parser = _OperationParser()
    parser.feed(dom)
    return set(zip(parser.methods, parser.paths, strict=False))


def chromium(binary: str, url: str, *args: str) -> str:
    """Run headless Chromium on ``url`` with a fresh profile; its stdout."""
    with tempfile.TemporaryDirectory(prefix="docs-check-", ignore_cleanup_errors=True) as profile:
        command = [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={RENDER_BUDGET_MS}",
            *args,
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{binary} exited with {done.returncode}:\n{done.stderr[-2000:]}")
    return done.stdout


class DevTools:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4, NUL-separated JSON)."""

    def __init__(self, binary: str) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="docs-check-", ignore_cleanup_errors=True)
        child_in, self._commands = os.pipe()
        self._replies, child_out = os.pipe()
        # Above 4, so that moving them to 3 and 4 in the child cannot overwrite one with the other.
        child_in, child_out = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (child_in, child_out))

        def use_pipe() -> None:
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile.name}", "--remote-debugging-pipe"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=use_pipe,
            pass_fds=(3, 4),
        )
        os.close(child_in)
        os.close(child_out)
        self._buffer = b""
        self._last_id = 0

    def __enter__(self) -> DevTools:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        try:
            self.send("Browser.close")
            self.process.wait(timeout=10)
        except (OSError, RuntimeError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        os.close(self._commands)
        os.close(self._replies)
        self._profile.cleanup()

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        """Send one command and wait for its result (events in between are skipped)."""
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = json.loads(self._next_message())
            if reply.get("id") == self._last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def _next_message(self) -> bytes:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._replies], [], [], BROWSER_TIMEOUT_S)
            chunk = os.read(self._replies, 1 << 16) if ready else b""
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe or did not answer in time")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return message

    def open(self, url: str) -> str:
        """Load ``url`` in the browser's page; the session to talk to it."""
        targets = self.send("Target.getTargets")["targetInfos"]
        page = next(t["targetId"] for t in targets if t["type"] == "page")
        session: str = self.send("Target.attachToTarget", {"targetId": page, "flatten": True})["sessionId"]
        self.send("Page.navigate", {"url": url}, session)
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        """The value of ``expression`` in the page (promises awaited)."""
        params = {"expression": expression, "awaitPromise": True, "returnByValue": True}
        result = self.send("Runtime.evaluate", params, session)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"].get("exception", {}).get("description", "script failed"))
        return result["result"].get("value")


def _post(url: str, body: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - our own http URL
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return dict(json.load(response))


def access_token(base_url: str) -> str:
    """A new user's token, from /api/register and /api/login as a reader of the docs would get it."""
    credentials = {"email": "docs-check@example.com", "password": "docs-check-password"}
    _post(base_url + "/api/register", {**credentials, "username": "docs-check"})
    return str(_post(base_url + "/api/login", credentials)["access_token"])


def authorize_and_try_me(binary: str, base_url: str, token: str) -> dict[str, str]:
    """Authorize in the page with ``token``, run GET /api/me; its status and the stored authorization."""
    script = AUTHORIZE_AND_TRY_ME.replace("TOKEN", json.dumps(token)).replace("OPERATION", json.dumps(TRY_ME_OPERATION))
    with DevTools(binary) as browser:
        session = browser.open(base_url + DOCS_PATH)
        return dict(browser.evaluate(session, script))


def check(template: Path, screenshot: Path, binary: str) -> list[str]:
    """Render the docs page; the problems found (none: every operation is shown)."""
    with local_api(template) as base_url:
        expected = documented_operations(base_url)
        dom = chromium(binary, base_url + DOCS_PATH, "--dump-dom")
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        chromium(binary, base_url + DOCS_PATH, f"--screenshot={screenshot.resolve()}", "--window-size=1280,1800")
        token = access_token(base_url)
        tried = authorize_and_try_me(binary, base_url, token)
    shown = rendered_operations(dom)
    problems = [f"not shown: {method} {path}" for method, path in sorted(expected - shown)]
    problems += [f"shown but not documented: {method} {path}" for method, path in sorted(shown - expected)]
    if not screenshot.is_file():
        problems.append(f"no screenshot written to {screenshot}")
    if tried["status"] != "200":
        problems.append(f"GET /api/me after Authorize answered {tried['status']}, not 200")
    if token not in tried["persisted"]:
        problems.append("the token given to Authorize was not kept (persistAuthorization)")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m tests.integration.docs_check``."""
    parser = argparse.ArgumentParser(prog="python -m tests.integration.docs_check", description=__doc__)
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--screenshot", type=Path, default=Path("out/docs.png"))
    parser.add_argument("--chromium", default=None, help=f"browser binary (default: the first of {CHROMIUM_NAMES})")
    args = parser.parse_args(argv)
    binary = args.chromium or find_chromium()
    if binary is None:
        print("docs-check: no Chromium found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    problems = check(args.template, args.screenshot, binary)
    for problem in problems:
        print(f"docs-check: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"docs-check: every documented operation is shown on {DOCS_PATH}; screenshot in {args.screenshot}")
    print("docs-check: Authorize with a token from /api/login, then Try it out on GET /api/me: 200")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
