"""Every test starts from a clean, offline environment and fresh per-container caches.

Where a test sets no MONGODB_URI, its database is a fresh in-memory one (mongomock) that
``reset_containers()`` installs through ``shared.data.client.use_client``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import TEST_JWT_SECRET, reset_containers

_CLEARED = (
    "MONGODB_URI",
    "MONGODB_URI_SECRET_ARN",
    "MONGODB_DB_NAME",
    "MONGODB_TIMEOUT_MS",
    "JWT_SECRET_ARN",
    "JWT_EXPIRE_MINUTES",
    "CORS_ALLOW_ORIGINS",
    "AWS_LAMBDA_FUNCTION_NAME",
    "POWERTOOLS_LOGGER_LOG_EVENT",
    "AWS_PROFILE",
    "LOGIN_MAX_FAILURES",
    "LOGIN_WINDOW_MINUTES",
    "LOGIN_MAX_FAILURES_PER_EMAIL",
    "MAIL_FROM",
    "PASSWORD_RESET_URL",
    "PASSWORD_RESET_MINUTES",
    "PASSWORD_RESET_MAX_REQUESTS",
)


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in _CLEARED:
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
