"""Fixtures of the local API tests: servers started as subprocesses, stopped at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.helpers import FIXTURES, JWT_SECRET, ROOT, LocalApi, running

StartApi = Callable[..., LocalApi]


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    """The project's API, throwaway store, a known JWT secret."""
    log = tmp_path_factory.mktemp("local-api") / "output.log"
    with running("--in-memory", env={"JWT_SECRET": JWT_SECRET}, log=log) as server:
        yield server


@pytest.fixture(scope="session")
def gateway_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    """The fixture template: echo, crash and scripted authorizer functions."""
    folder = FIXTURES / "gateway"
    log = tmp_path_factory.mktemp("local-api-fixture") / "output.log"
    with running(
        "--in-memory",
        "--template",
        str(folder / "template.yaml"),
        "--env-vars",
        str(folder / "env.json"),
        env={"FIXTURE_OVERRIDDEN": "from-process"},
        log=log,
        healthy=False,
    ) as server:
        yield server


@pytest.fixture
def start_api(tmp_path: Path) -> Iterator[StartApi]:
    """Start servers on demand (each with its own log); all are stopped at the end of the test."""
    started: list[LocalApi] = []

    def start(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, healthy: bool = True) -> LocalApi:
        server = LocalApi(*args, cwd=cwd, env=env, log=tmp_path / f"output-{len(started)}.log")
        started.append(server)
        server.wait_until_ready(healthy=healthy)
        return server

    yield start
    for server in started:
        server.stop()
