"""Talking to the local API: start it as a real subprocess on a free port, call it, read its log."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from local_api.harness import LocalApiProcess
from tests.support import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_APP = Path(__file__).resolve().parent / "sample_app"  # a SAM application: echo, crash, authorizer
JWT_SECRET = "integration-signing-secret-that-is-long-enough-42"
_REQUEST_LINE = re.compile(
    r"^\S+ (?P<method>[A-Z]+)\s+(?P<path>\S+) (?P<status>\d{3}) (?P<target>.+?) [\d.]+ ms(?:  \[(?P<note>.*)\])?$"
)


class LocalApi(LocalApiProcess):
    """One ``python -m local_api`` process (fast bcrypt), its output captured in ``log``, and a session to call it."""

    def __init__(self, *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, log: Path) -> None:
        self.log_path = log
        self._log_file = log.open("wb")
        super().__init__(*args, cwd=cwd, env={"BCRYPT_ROUNDS": "4", **(env or {})}, output=self._log_file)
        self.session = requests.Session()

    def describe_failure(self) -> str:
        return f"{super().describe_failure()}\n{self.output()}"

    def wait_until_ready(self, *, healthy: bool) -> None:
        """Until /api/health answers 200 (``healthy``), or only until the port accepts connections."""
        if healthy:
            self.wait_until_healthy()
        else:
            self.wait_until_listening()

    def url(self, path: str) -> str:
        return self.base_url + path

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.url(path), timeout=10, **kwargs)

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def request_lines(self) -> list[dict[str, str]]:
        """The request log lines written so far, parsed."""
        lines = []
        for line in self.output().splitlines():
            match = _REQUEST_LINE.match(line)
            if match:
                lines.append({k: v or "" for k, v in match.groupdict().items()})
        return lines

    def last_request_line(self) -> dict[str, str]:
        return self.request_lines()[-1]

    def stop(self) -> None:
        self.session.close()
        super().stop()
        self._log_file.close()


def copy_project(destination: Path) -> Path:
    """template.yaml, functions/ and shared/ of the project, copied to ``destination``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "template.yaml", destination / "template.yaml")
    shutil.copytree(ROOT / "functions", destination / "functions", ignore=ignore)
    shutil.copytree(ROOT / "shared", destination / "shared", ignore=ignore)
    return destination


def unique_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


def register(server: LocalApi, email: str | None = None, username: str = "ada") -> requests.Response:
    body = {"email": email or unique_email(), "username": username, "password": PASSWORD}
    return server.request("POST", "/api/register", json=body)


def login(server: LocalApi, email: str) -> str:
    response = server.request("POST", "/api/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_user(server: LocalApi) -> tuple[dict[str, Any], str]:
    """A registered user and a token for them."""
    email = unique_email()
    response = register(server, email)
    assert response.status_code == 201, response.text
    return response.json(), login(server, email)


@contextmanager
def running(*args: str, log: Path, env: dict[str, str] | None = None, healthy: bool = True) -> Iterator[LocalApi]:
    """A local API for the duration of a ``with`` block: started, waited for, stopped."""
    server = LocalApi(*args, env=env, log=log)
    try:
        server.wait_until_ready(healthy=healthy)
        yield server
    finally:
        server.stop()
