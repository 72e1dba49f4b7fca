from __future__ import annotations

import jwt
import pytest

from shared.data.client import get_database
from tests.support import authorize, context_of, invoke, load_event, login_pair, register


def _sid(access_token: str) -> str:
    sid: str = jwt.decode(access_token, options={"verify_signature": False})["sid"]
    return sid


def test_logout_ends_the_callers_session_and_the_authorizer_refuses_its_token() -> None:
    user = register()
    pair = login_pair()
    context = context_of(pair["access_token"])

    result = invoke("logout", user_id=context["user_id"], sid=context["sid"])

    assert result.status == 204
    assert result.raw_body in (None, "")
    session = get_database().sessions.find_one({"_id": _sid(pair["access_token"])})
    assert session["user_id"] == user["id"]
    assert session["ended_at"] is not None
    assert session["end_reason"] == "logout"
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(pair["access_token"])
    assert invoke("refresh_token", body={"refresh_token": pair["refresh_token"]}).status == 401


def test_logout_leaves_the_users_other_sessions_alone() -> None:
    user = register()
    leaving, staying = login_pair(), login_pair()

    invoke("logout", user_id=user["id"], sid=_sid(leaving["access_token"]))

    assert authorize(staying["access_token"])["principalId"] == user["id"]


def test_logout_twice_is_204_both_times_and_keeps_the_first_end() -> None:
    user = register()
    sid = _sid(login_pair()["access_token"])
    invoke("logout", user_id=user["id"], sid=sid)
    first_end = get_database().sessions.find_one({"_id": sid})["ended_at"]

    result = invoke("logout", user_id=user["id"], sid=sid)

    assert result.status == 204
    assert get_database().sessions.find_one({"_id": sid})["ended_at"] == first_end


def test_logout_cannot_end_another_users_session() -> None:
    ada = register()
    register("bob@example.com", username="bob")
    bobs = login_pair("bob@example.com")

    result = invoke("logout", user_id=ada["id"], sid=_sid(bobs["access_token"]))

    assert result.status == 204
    assert get_database().sessions.find_one({"_id": _sid(bobs["access_token"])})["ended_at"] is None


def test_logout_fixture_ends_its_session() -> None:
    event = load_event("logout")
    user_id, sid = event["requestContext"]["authorizer"]["user_id"], event["requestContext"]["authorizer"]["sid"]
    get_database().sessions.insert_one({"_id": sid, "user_id": user_id, "ended_at": None})

    result = invoke("logout", event)

    assert result.status == 204
    assert get_database().sessions.find_one({"_id": sid})["end_reason"] == "logout"


def test_logout_without_a_session_in_the_context_returns_401() -> None:
    event = load_event("logout")
    del event["requestContext"]["authorizer"]["sid"]

    result = invoke("logout", event)

    assert result.status == 401
    assert result.headers["WWW-Authenticate"] == "Bearer"


def test_logout_without_authorizer_context_returns_401() -> None:
    assert invoke("logout", user_id=None).status == 401
