from __future__ import annotations

import pytest

from tests.support import free_port


@pytest.fixture
def unreachable_mongodb(monkeypatch: pytest.MonkeyPatch) -> str:
    """Real pymongo pointed at a closed local port, with a short server-selection timeout."""
    uri = f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"
    monkeypatch.setenv("MONGODB_URI", uri)
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "500")
    return uri
