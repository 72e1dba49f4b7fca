from __future__ import annotations

import time

import pytest

from shared import __version__
from tests.support import invoke, load_event


def test_health_fixture_reports_ok_with_version() -> None:
    result = invoke("health", load_event("health"))

    assert result.status == 200
    assert result.body == {"status": "ok", "database": "ok", "version": __version__}


@pytest.mark.usefixtures("unreachable_mongodb")
def test_health_with_database_unreachable_returns_503_within_seconds() -> None:
    started = time.monotonic()
    result = invoke("health")
    elapsed = time.monotonic() - started

    assert result.status == 503
    assert result.body == {
        "status": "degraded",
        "database": "unavailable",
        "version": __version__,
        "detail": "Database unavailable",
    }
    assert elapsed < 5
