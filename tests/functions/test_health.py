from __future__ import annotations

import time

import pytest

from shared import __version__
from shared.data import client as db
from tests.support import free_port, invoke, load_event

DEGRADED = {"status": "degraded", "database": "unavailable", "version": __version__, "detail": "Database unavailable"}


def test_health_fixture_reports_ok_with_version() -> None:
    result = invoke("health", load_event("health"))

    assert result.status == 200
    assert result.body == {"status": "ok", "database": "ok", "version": __version__}


@pytest.mark.usefixtures("unreachable_mongodb")
def test_health_with_database_unreachable_returns_503_within_seconds() -> None:
    started = time.monotonic()
    result = invoke("health")
    elapsed = time.monotonic() - started

    assert (result.status, result.body) == (503, DEGRADED)
    assert elapsed < 5


def test_health_with_database_unreachable_answers_within_the_ping_timeout_not_the_writes_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Load balancers and uptime monitors give a health check 2-5 s: the ping waits MONGODB_PING_TIMEOUT_MS,
    not the server-selection timeout the functions' writes keep for a failover."""
    monkeypatch.setenv("MONGODB_URI", f"mongodb://127.0.0.1:{free_port()}/?directConnection=true")
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "15000")
    monkeypatch.setenv("MONGODB_PING_TIMEOUT_MS", "300")

    started = time.monotonic()
    result = invoke("health")
    elapsed = time.monotonic() - started

    assert (result.status, result.body) == (503, DEGRADED)
    assert elapsed < 3  # a fifth of the 15 s a write would wait; about 0.3 s
    client = db.get_client()  # the container's one client, its timeouts as they were
    assert client.options.server_selection_timeout == 15
    assert invoke("health").status == 503
    assert db.get_client() is client
