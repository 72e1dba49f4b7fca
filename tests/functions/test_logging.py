"""No password, hash or token ever reaches a log line, even at DEBUG and on errors."""

from __future__ import annotations

import json
import logging

import pytest

from shared.data.client import get_database
from tests.support import PASSWORD, api_event, authorize, invoke, login, login_pair, register


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
    assert any(r.get("message") == "Bearer token refused" for r in records)
    assert any(r.get("correlation_id") for r in records)
    for secret in (PASSWORD, "é" * 40, hashed, token, token.split(".")[2]):
        assert not any(secret in line for line in lines), secret


def test_unexpected_error_is_logged_with_traceback_but_client_gets_plain_500(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.status import status_checks

    def explode(self: object, *args: object, **kwargs: object) -> None:
        raise RuntimeError("boom at /var/task/secret/path.py")

    monkeypatch.setattr(status_checks.StatusCheckRepository, "create", explode)

    result = invoke("create_status_check")

    assert result.status == 500
    assert result.body == {"detail": "Internal server error"}
    out = capsys.readouterr().out
    assert "boom at /var/task/secret/path.py" in out
    assert "Traceback" in out


def test_passwords_never_reach_powertools_debug_logs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("POWERTOOLS_DEBUG", "1")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    caplog.set_level(logging.DEBUG)
    first, second, third = "first password 1", "second password 2", "third password 3"
    user = invoke("register", body={"email": "ada@example.com", "username": "ada", "password": first}).body
    pair = invoke("login", body={"email": "ada@example.com", "password": first}).body
    context = authorize(pair["access_token"])["context"]
    invoke("login", body={"email": "ada@example.com", "password": third})
    change = {"current_password": first, "new_password": second}
    changed = invoke("change_password", body=change, user_id=user["id"], sid=context["sid"]).body
    context = authorize(changed["access_token"])["context"]
    invoke("change_password", body={"current_password": third, "new_password": first}, user_id=user["id"])
    invoke("delete_me", body={"password": third}, user_id=user["id"], sid=context["sid"])
    invoke("refresh_token", body={"refresh_token": changed["refresh_token"]})
    invoke("delete_me", body={"password": second}, user_id=user["id"], sid=context["sid"])

    captured = capsys.readouterr()
    logged = "\n".join([captured.out, captured.err, caplog.text])

    assert "Calling API Route Handler" in logged  # Powertools did log the route arguments
    for secret in (first, second, third, pair["refresh_token"], changed["refresh_token"]):
        assert secret not in logged, secret


def test_request_models_keep_passwords_and_tokens_out_of_their_repr() -> None:
    from shared.accounts.models import AccountDeletion, PasswordChange, Token, TokenRefresh, UserCreate, UserLogin

    models = [
        UserCreate(email="ada@example.com", username="ada", password="secret password 1"),
        UserLogin(email="ada@example.com", password="secret password 1"),
        PasswordChange(current_password="secret password 1", new_password="secret password 2"),
        AccountDeletion(password="secret password 1"),
        TokenRefresh(refresh_token="secret password 1"),
        Token(access_token="secret password 1", expires_in=1, refresh_token="secret password 2", refresh_expires_in=1),
    ]

    for model in models:
        assert "secret password" not in repr(model)
        assert "secret password" not in str(model)


def test_the_raw_event_is_never_logged_even_when_the_environment_asks(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    register()
    pair = login_pair()
    invoke("refresh_token", body={"refresh_token": pair["refresh_token"]})
    with pytest.raises(Exception, match="Unauthorized"):
        authorize("not-a-token")

    out = capsys.readouterr().out

    assert "Bearer token refused" in out  # the functions' logs are in what is checked
    for secret in (PASSWORD, pair["refresh_token"]):
        assert secret not in out
