"""Every test starts from a clean, offline environment and fresh per-container caches.

Where a test sets no MONGODB_URI, its database is a fresh in-memory one (mongomock) that
``reset_containers()`` installs through ``shared.data.client.use_client``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import CLEARED_VARIABLES, TEST_JWT_SECRET, reset_containers


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in CLEARED_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JWT_SECRET", TEST_JWT_SECRET)
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "prompt-api")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    reset_containers()
    yield
    reset_containers()
