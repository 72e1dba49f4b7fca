from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.data.client import get_database
from tests.functions.test_forgot_password import ses, token_of
from tests.support import PASSWORD, authorize, context_of, invoke, login_pair, register

__all__ = ["ses"]  # the fixture, shared with the forgot tests

NEW_PASSWORD = "battery staple horse"
INVALID = {"detail": "Invalid, expired or spent reset token"}


def _mailed_token(sent: list[Any], email: str = "ada@example.com") -> str:
    assert invoke("forgot_password", body={"email": email}).status == 202
    return token_of(sent[-1])


def _reset(token: str, new_password: str = NEW_PASSWORD):
    return invoke("reset_password", body={"token": token, "new_password": new_password})


def _login(password: str):
    return invoke("login", body={"email": "ada@example.com", "password": password})


def test_reset_password_fixture_of_an_unknown_token_returns_400() -> None:
    result = invoke("reset_password")

    assert result.status == 400
    assert result.body == INVALID


def test_reset_sets_the_new_password_and_ends_every_session(ses: list[Any]) -> None:
    register()
    pair = login_pair()
    token = _mailed_token(ses)
    ended_before = datetime.now(UTC).replace(microsecond=0)

    result = _reset(token)

    assert result.status == 204
    assert result.raw_body in (None, "")
    assert _login(PASSWORD).status == 401
    assert _login(NEW_PASSWORD).status == 200
    cut = get_database().users.find_one({"email": "ada@example.com"})["sessions_valid_after"]
    assert cut >= ended_before  # the write that set the password also ended every earlier session
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(pair["access_token"])
    assert invoke("refresh_token", body={"refresh_token": pair["refresh_token"]}).status == 401
    ended = get_database().sessions.find_one({"_id": context_of_ended(pair)})
    assert ended["end_reason"] == "password_reset"


def context_of_ended(pair: dict[str, Any]) -> str:
    import jwt

    sid: str = jwt.decode(pair["access_token"], options={"verify_signature": False})["sid"]
    return sid


def test_a_token_works_once(ses: list[Any]) -> None:
    register()
    token = _mailed_token(ses)

    assert _reset(token).status == 204
    again = _reset(token, "yet another password")

    _assert_refused(again, password_in_force=NEW_PASSWORD)


def _assert_refused(result: Any, *, password_in_force: str) -> None:
    """The one 400 of a token that cannot reset, and the password left as it was."""
    assert result.status == 400
    assert result.body == INVALID
    assert _login(password_in_force).status == 200


def test_an_expired_token_is_400_with_the_same_message(ses: list[Any]) -> None:
    register()
    token = _mailed_token(ses)
    past = datetime.now(UTC) - timedelta(seconds=1)
    # Expired, and still stored: the test store keeps it until a TTL pass, as a server does.
    get_database().reset_tokens.update_many({}, {"$set": {"expires_at": past}})
    assert get_database().reset_tokens.count_documents({}) == 1

    _assert_refused(_reset(token), password_in_force=PASSWORD)


def test_a_newer_request_voids_the_earlier_token(ses: list[Any]) -> None:
    register()
    first = _mailed_token(ses)
    second = _mailed_token(ses)

    assert _reset(first).body == INVALID
    assert _reset(second).status == 204


def test_a_password_change_voids_the_mailed_token(ses: list[Any]) -> None:
    register()
    token = _mailed_token(ses)
    context = context_of(login_pair()["access_token"])
    body = {"current_password": PASSWORD, "new_password": "changed by the owner"}
    assert invoke("change_password", body=body, user_id=context["user_id"], sid=context["sid"]).status == 200

    result = _reset(token)

    assert result.body == INVALID
    assert _login("changed by the owner").status == 200


def test_the_token_of_an_account_deactivated_since_is_refused(ses: list[Any]) -> None:
    user = register()
    token = _mailed_token(ses)
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"is_active": False}})

    assert _reset(token).body == INVALID


@pytest.mark.parametrize("new_password", ["short", "é" * 37, "\ufdfa" * 3 + "aaaaa"])
def test_a_new_password_the_policy_refuses_is_422_and_leaves_the_token_usable(
    ses: list[Any], new_password: str
) -> None:
    register()
    token = _mailed_token(ses)

    refused = _reset(token, new_password)

    assert refused.status == 422
    assert refused.body["detail"][0]["loc"] == ["body", "new_password"]
    assert token not in refused.raw_body
    assert _reset(token).status == 204


@pytest.mark.parametrize("body", [{}, {"token": "x"}, {"token": "", "new_password": NEW_PASSWORD}, {"token": 1}])
def test_reset_password_with_a_bad_body_is_422(body: dict[str, Any]) -> None:
    result = invoke("reset_password", body=body)

    assert result.status == 422


def test_a_reset_is_counted(ses: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    register()
    token = _mailed_token(ses)
    capsys.readouterr()

    _reset(token)

    out = capsys.readouterr().out
    assert '"PasswordReset":[1.0]' in out
    assert token not in out


def test_spending_a_token_twice_finds_it_once(ses: list[Any]) -> None:
    from shared.accounts.reset_tokens import ResetTokenRepository

    user = register()
    token = _mailed_token(ses)
    tokens = ResetTokenRepository()

    assert tokens.spend(token) == user["id"]
    assert tokens.spend(token) is None
