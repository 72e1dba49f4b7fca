"""No password, hash or token ever reaches a log line, even at DEBUG and on errors."""

from __future__ import annotations

import json

import pytest

from shared.db import get_database
from tests.support import PASSWORD, api_event, authorize, invoke, login, register


def test_no_password_hash_or_token_in_any_log_line(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    user = register()
    token = login()
    authorize(token)
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(token + "x")
    invoke("login", body={"email": "ada@example.com", "password": "wrong " + PASSWORD})
    invoke("register", body={"email": "ada@example.com", "username": "x", "password": "é" * 40})
    invoke("me", api_event("me", headers={"Authorization": f"Bearer {token}"}, user_id=user["id"]))
    hashed = get_database().users.find_one({"_id": user["id"]})["hashed_password"]

    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]

    records = [json.loads(line) for line in lines]
    assert any(r["message"] == "Bearer token refused" for r in records)
    assert any(r.get("correlation_id") for r in records)
    for secret in (PASSWORD, "é" * 40, hashed, token, token.split(".")[2]):
        assert not any(secret in line for line in lines), secret


def test_unexpected_error_is_logged_with_traceback_but_client_gets_plain_500(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared import repositories

    def explode(self: object, *args: object, **kwargs: object) -> None:
        raise RuntimeError("boom at /var/task/secret/path.py")

    monkeypatch.setattr(repositories.StatusCheckRepository, "create", explode)

    result = invoke("create_status_check")

    assert result.status == 500
    assert result.body == {"detail": "Internal server error"}
    out = capsys.readouterr().out
    assert "boom at /var/task/secret/path.py" in out
    assert "Traceback" in out
