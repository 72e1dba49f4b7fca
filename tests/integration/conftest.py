"""Fixtures of the local API tests: servers started as subprocesses, stopped at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.helpers import JWT_SECRET, ROOT, SAMPLE_APP, LocalApi, running

StartApi = Callable[..., LocalApi]


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    """The project's API, throwaway store, a known JWT secret."""
    log = tmp_path_factory.mktemp("local-api") / "output.log"
    with running("--in-memory", env={"JWT_SECRET": JWT_SECRET}, log=log) as server:
        yield server


@pytest.fixture(scope="session")
def sample_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    """The sample application: echo, crash and scripted authorizer functions."""
    folder = SAMPLE_APP
    log = tmp_path_factory.mktemp("local-api-sample-app") / "output.log"
    with running(
        "--in-memory",
        "--template",
        str(folder / "template.yaml"),
        "--env-vars",
        str(folder / "env.json"),
        env={"SAMPLE_OVERRIDDEN": "from-process"},
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
