from __future__ import annotations

import bcrypt
import jwt
import pytest

from shared.data.client import get_database
from tests.support import PASSWORD, authorize, context_of, fixture_user, invoke, load_event, login_pair, register

NEW_PASSWORD = "battery staple horse"


def _sid(access_token: str) -> str:
    sid: str = jwt.decode(access_token, options={"verify_signature": False})["sid"]
    return sid


def _change(access_token: str, current: str = PASSWORD, new: str = NEW_PASSWORD):
    context = context_of(access_token)
    body = {"current_password": current, "new_password": new}
    return invoke("change_password", body=body, user_id=context["user_id"], sid=context["sid"])


def _refused(access_token: str) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(access_token)


def test_change_password_fixture_of_an_unknown_password_returns_400() -> None:
    event = load_event("change_password")
    fixture_user(event)  # its stored hash matches no password

    result = invoke("change_password", event)

    assert result.status == 400
    assert result.body == {"detail": "Incorrect password"}


def test_change_password_ends_every_session_and_returns_a_working_pair() -> None:
    user = register()
    here, elsewhere = login_pair(), login_pair()

    result = _change(here["access_token"])

    assert result.status == 200
    assert set(result.body) == {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
    assert result.headers["Cache-Control"] == "no-store"
    assert result.headers["Pragma"] == "no-cache"
    for old in (here, elsewhere):
        _refused(old["access_token"])
        assert invoke("refresh_token", body={"refresh_token": old["refresh_token"]}).status == 401
        session = get_database().sessions.find_one({"_id": _sid(old["access_token"])})
        assert session["ended_at"] is not None
        assert session["end_reason"] == "password_change"
    new_sid = _sid(result.body["access_token"])
    assert new_sid not in {_sid(here["access_token"]), _sid(elsewhere["access_token"])}
    assert authorize(result.body["access_token"])["context"]["sid"] == new_sid
    refreshed = invoke("refresh_token", body={"refresh_token": result.body["refresh_token"]})
    assert refreshed.status == 200
    assert authorize(refreshed.body["access_token"])["principalId"] == user["id"]


def test_change_password_stores_the_new_hash_and_only_the_new_password_logs_in() -> None:
    user = register()
    pair = login_pair()

    _change(pair["access_token"])

    stored = get_database().users.find_one({"_id": user["id"]})
    assert bcrypt.checkpw(NEW_PASSWORD.encode(), stored["hashed_password"].encode())
    assert stored["sessions_valid_after"] is not None
    assert invoke("login", body={"email": "ada@example.com", "password": PASSWORD}).status == 401
    assert invoke("login", body={"email": "ada@example.com", "password": NEW_PASSWORD}).status == 200


def test_change_password_with_a_wrong_current_password_returns_400_and_changes_nothing() -> None:
    user = register()
    pair = login_pair()
    before = get_database().users.find_one({"_id": user["id"]})

    result = _change(pair["access_token"], current="not the password")

    assert result.status == 400
    assert result.body == {"detail": "Incorrect password"}
    assert get_database().users.find_one({"_id": user["id"]}) == before
    assert authorize(pair["access_token"])["principalId"] == user["id"]


def test_change_password_to_the_same_password_returns_400() -> None:
    register()
    pair = login_pair()

    result = _change(pair["access_token"], new=PASSWORD)

    assert result.status == 400
    assert result.body == {"detail": "The new password must differ from the current one"}
    assert authorize(pair["access_token"])["context"]["sid"] == _sid(pair["access_token"])


@pytest.mark.parametrize("new", ["short", "é" * 40, ""])
def test_change_password_to_one_the_policy_refuses_returns_422(new: str) -> None:
    user = register()
    pair = login_pair()
    before = get_database().users.find_one({"_id": user["id"]})

    result = _change(pair["access_token"], new=new)

    assert result.status == 422
    assert result.body["detail"][0]["loc"] == ["body", "new_password"]
    assert get_database().users.find_one({"_id": user["id"]}) == before


@pytest.mark.parametrize(
    "body",
    [
        {"current_password": PASSWORD},
        {"new_password": NEW_PASSWORD},
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "x": 1},
    ],
)
def test_change_password_with_missing_or_extra_fields_returns_422(body: dict) -> None:
    user = register()

    assert invoke("change_password", body=body, user_id=user["id"]).status == 422


def test_change_password_without_authorizer_context_returns_401() -> None:
    assert invoke("change_password", user_id=None).status == 401


def test_wrong_current_passwords_count_against_the_login_limits_then_429_even_when_right() -> None:
    register()
    pair = login_pair()

    statuses = [_change(pair["access_token"], current="not the password").status for _ in range(25)]
    right = _change(pair["access_token"])

    assert statuses == [400] * 5 + [429] * 20
    assert right.status == 429
    assert right.body == {"detail": "Too many wrong passwords; try again later"}
    assert 1 <= int(right.headers["Retry-After"]) <= 900
    assert bcrypt.checkpw(PASSWORD.encode(), get_database().users.find_one({})["hashed_password"].encode())


def test_wrong_current_passwords_and_wrong_logins_share_one_budget() -> None:
    register()
    pair = login_pair()
    for _ in range(3):
        assert invoke("login", body={"email": "ada@example.com", "password": "nope nope"}).status == 401

    statuses = [_change(pair["access_token"], current="not the password").status for _ in range(3)]

    assert statuses == [400, 400, 429]
    assert invoke("login", body={"email": "ada@example.com", "password": PASSWORD}).status == 429
