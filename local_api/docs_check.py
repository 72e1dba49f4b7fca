"""``python -m local_api.docs_check``: does Swagger UI at ``/api/docs`` show every route?

Starts the local API in this process (throwaway store, any free port), renders ``/api/docs`` in
headless Chromium, and checks that every method and path of ``/api/openapi.json`` is in the
rendered page; saves a screenshot (``out/docs.png``) to look at. Needs a Chromium binary
(Debian: ``apt-get install chromium``); ``make test`` does not.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

from local_api import cli
from local_api.docs import DOCS_PATH, DOCUMENT_PATH

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
Operation = tuple[str, str]  # ("GET", "/api/me")


def find_chromium() -> str | None:
    """The first Chromium (or Chrome) binary on PATH."""
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


@contextmanager
def local_api(template: Path) -> Iterator[str]:
    """The local API serving ``template`` on a free port in a background thread; yields its base URL."""
    api = cli.build(cli.parse_args(["--template", str(template), "--port", "0", "--in-memory", "--no-reload"]))
    thread = threading.Thread(target=api.server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = api.server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        api.server.shutdown()
        api.server.server_close()


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
    with tempfile.TemporaryDirectory(prefix="docs-check-") as profile:
        command = [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={RENDER_BUDGET_MS}",
            *args,
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{binary} exited with {done.returncode}:\n{done.stderr[-2000:]}")
    return done.stdout


def check(template: Path, screenshot: Path, binary: str) -> list[str]:
    """Render the docs page; the problems found (none: every operation is shown)."""
    with local_api(template) as base_url:
        expected = documented_operations(base_url)
        dom = chromium(binary, base_url + DOCS_PATH, "--dump-dom")
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        chromium(binary, base_url + DOCS_PATH, f"--screenshot={screenshot.resolve()}", "--window-size=1280,1800")
    shown = rendered_operations(dom)
    problems = [f"not shown: {method} {path}" for method, path in sorted(expected - shown)]
    problems += [f"shown but not documented: {method} {path}" for method, path in sorted(shown - expected)]
    if not screenshot.is_file():
        problems.append(f"no screenshot written to {screenshot}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m local_api.docs_check``."""
    parser = argparse.ArgumentParser(prog="python -m local_api.docs_check", description=__doc__)
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
