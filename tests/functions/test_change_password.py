from __future__ import annotations

from unittest.mock import patch

import bcrypt
import jwt
import pytest

from shared import config
from shared.accounts.sessions import SessionRepository
from shared.accounts.users import UserRepository
from shared.data.client import get_database
from shared.errors import ServiceUnavailable
from shared.ids import utcnow
from tests.support import PASSWORD, authorize, fixture_user, invoke, load_event, login_pair, register

NEW_PASSWORD = "battery staple horse"


def _sid(access_token: str) -> str:
    sid: str = jwt.decode(access_token, options={"verify_signature": False})["sid"]
    return sid


def _change(access_token: str, current: str = PASSWORD, new: str = NEW_PASSWORD):
    context = authorize(access_token, route=("POST", "/api/me/password"))["context"]
    body = {"current_password": current, "new_password": new}
    return invoke("change_password", body=body, user_id=context["user_id"], sid=context["sid"])


STAGE_ARN = "/".join(load_event("authorizer")["methodArn"].split("/", 2)[:2])


def _resources(policy: dict) -> list[str]:
    (statement,) = policy["policyDocument"]["Statement"]
    resources: list[str] = statement["Resource"]
    return resources


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
    _refused(elsewhere["access_token"])
    ended = get_database().sessions.find_one({"_id": _sid(elsewhere["access_token"])})
    assert (ended["ended_at"] is not None, ended["end_reason"]) == (True, "password_change")
    # The caller's old session may only retry the change, for PASSWORD_CHANGE_RETRY_SECONDS.
    _refused(here["access_token"])
    retry = authorize(here["access_token"], route=("POST", "/api/me/password"))
    assert _resources(retry) == [f"{STAGE_ARN}/POST/api/me/password"]
    for old in (here, elsewhere):
        assert invoke("refresh_token", body={"refresh_token": old["refresh_token"]}).status == 401
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


def test_change_password_retried_after_a_lost_answer_returns_the_same_new_session() -> None:
    register()
    here = login_pair()
    first = _change(here["access_token"])

    again = _change(here["access_token"])

    assert (first.status, again.status) == (200, 200)
    assert again.body["refresh_token"] == first.body["refresh_token"]
    assert _sid(again.body["access_token"]) == _sid(first.body["access_token"])
    assert get_database().sessions.count_documents({"ended_at": None, "end_reason": None}) == 2  # old + new


def test_change_password_failing_after_the_new_hash_was_stored_is_completed_by_its_retry() -> None:
    user = register()
    here, elsewhere = login_pair(), login_pair()
    unavailable = ServiceUnavailable("Database unavailable")
    with patch.object(SessionRepository, "start_once", side_effect=unavailable):
        assert _change(here["access_token"]).status == 503

    again = _change(here["access_token"])

    assert again.status == 200
    assert authorize(again.body["access_token"])["principalId"] == user["id"]
    _refused(elsewhere["access_token"])
    assert invoke("login", body={"email": "ada@example.com", "password": NEW_PASSWORD}).status == 200


def test_change_password_retried_after_the_grace_is_refused_by_the_authorizer(monkeypatch: pytest.MonkeyPatch) -> None:
    register()
    here = login_pair()
    _change(here["access_token"])
    monkeypatch.setenv("PASSWORD_CHANGE_RETRY_SECONDS", "0")
    config.clear_caches()

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(here["access_token"], route=("POST", "/api/me/password"))


def test_change_password_racing_the_accounts_deletion_leaves_no_session() -> None:
    user = register()
    here = login_pair()
    start_once = SessionRepository.start_once

    def deletion_starts_first(self: SessionRepository, *args: object, **kwargs: object) -> object:
        UserRepository().mark_deleting(user["id"], session_id="other", sessions_valid_after=utcnow())
        return start_once(self, *args, **kwargs)

    with patch.object(SessionRepository, "start_once", deletion_starts_first):
        result = _change(here["access_token"])

    assert result.status == 401
    assert get_database().sessions.count_documents({"ended_at": None, "created_at": {"$gte": utcnow()}}) == 0
    assert [s["_id"] for s in get_database().sessions.find()] == [_sid(here["access_token"])]


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
