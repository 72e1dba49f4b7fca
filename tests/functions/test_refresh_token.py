from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from shared.data.client import get_database
from tests.support import HttpResult, authorize, invoke, load_event, login_pair, register


def _refresh(refresh_token: str):
    return invoke("refresh_token", body={"refresh_token": refresh_token})


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _sid(access_token: str) -> str:
    sid: str = jwt.decode(access_token, options={"verify_signature": False})["sid"]
    return sid


def _assert_refused_and_ended(result: HttpResult, pair: dict, reason: str) -> None:
    """A 401 for the refresh, and the pair's session ended for ``reason``."""
    assert result.status == 401
    assert result.body == {"detail": "Invalid refresh token"}
    session = get_database().sessions.find_one({"_id": _sid(pair["access_token"])})
    assert session["ended_at"] is not None
    assert session["end_reason"] == reason


def _refused(access_token: str) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(access_token)


def test_refresh_token_fixture_with_an_unknown_token_returns_401() -> None:
    result = invoke("refresh_token", load_event("refresh_token"))

    assert result.status == 401
    assert result.body == {"detail": "Invalid refresh token"}


def test_refresh_returns_a_new_pair_of_the_same_session_and_spends_the_old_token() -> None:
    user = register()
    first = login_pair()

    result = _refresh(first["refresh_token"])

    assert result.status == 200
    assert set(result.body) == {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
    assert result.body["token_type"] == "bearer"
    assert result.body["expires_in"] == 3600
    assert result.body["refresh_expires_in"] == 30 * 24 * 3600
    assert result.body["refresh_token"] != first["refresh_token"]
    assert result.body["access_token"] != first["access_token"]
    assert result.headers["Cache-Control"] == "no-store"
    assert result.headers["Pragma"] == "no-cache"
    assert _sid(result.body["access_token"]) == _sid(first["access_token"])
    assert authorize(result.body["access_token"])["principalId"] == user["id"]
    session = get_database().sessions.find_one({"_id": _sid(first["access_token"])})
    assert session["refresh_hash"] == _sha256(result.body["refresh_token"])
    assert session["spent_hashes"] == [_sha256(first["refresh_token"])]
    assert session["ended_at"] is None
    assert session["expires_at"] > session["created_at"] + timedelta(days=30)


def test_refresh_tokens_are_never_stored_in_clear() -> None:
    register()
    pair = login_pair()
    rotated = _refresh(pair["refresh_token"]).body

    stored = repr(list(get_database().sessions.find()))

    assert pair["refresh_token"] not in stored
    assert rotated["refresh_token"] not in stored


def test_refresh_chain_keeps_working() -> None:
    register()
    token = login_pair()["refresh_token"]

    for _ in range(3):
        result = _refresh(token)
        assert result.status == 200
        token = result.body["refresh_token"]

    assert len(get_database().sessions.find_one()["spent_hashes"]) == 3


def test_reusing_a_spent_refresh_token_without_grace_ends_the_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFRESH_REUSE_GRACE_SECONDS", "0")
    register()
    first = login_pair()
    second = _refresh(first["refresh_token"]).body

    reused = _refresh(first["refresh_token"])

    _assert_refused_and_ended(reused, first, "reuse")
    # the token issued in its place stops working, and so do the session's access tokens
    after = _refresh(second["refresh_token"])
    assert after.status == 401
    assert after.body == {"detail": "Invalid refresh token"}
    _refused(second["access_token"])
    _refused(first["access_token"])


def test_reuse_ends_only_that_session() -> None:
    register()
    stolen, other = login_pair(), login_pair()
    successor = _refresh(stolen["refresh_token"]).body
    _refresh(successor["refresh_token"])

    _refresh(stolen["refresh_token"])

    assert authorize(other["access_token"])["context"]["sid"] == _sid(other["access_token"])
    assert _refresh(other["refresh_token"]).status == 200


def test_refresh_retried_within_the_grace_gets_the_same_successor_and_a_new_access_token() -> None:
    register()
    first = login_pair()
    answered = _refresh(first["refresh_token"])

    retried = _refresh(first["refresh_token"])

    assert (answered.status, retried.status) == (200, 200)
    assert retried.body["refresh_token"] == answered.body["refresh_token"]
    assert retried.body["access_token"] != answered.body["access_token"]
    assert _sid(retried.body["access_token"]) == _sid(first["access_token"])
    session = get_database().sessions.find_one({"_id": _sid(first["access_token"])})
    assert (session["ended_at"], session["spent_hashes"]) == (None, [_sha256(first["refresh_token"])])
    assert session["refresh_hash"] == _sha256(retried.body["refresh_token"])  # stored hashed only
    for access_token in (answered.body["access_token"], retried.body["access_token"]):
        assert authorize(access_token)["context"]["sid"] == _sid(first["access_token"])


def test_a_spent_token_is_reuse_once_its_successor_has_been_used() -> None:
    register()
    first = login_pair()
    second = _refresh(first["refresh_token"]).body
    third = _refresh(second["refresh_token"]).body

    reused = _refresh(first["refresh_token"])

    _assert_refused_and_ended(reused, first, "reuse")
    assert _refresh(third["refresh_token"]).status == 401
    _refused(third["access_token"])


def test_a_spent_token_is_reuse_once_the_grace_has_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFRESH_REUSE_GRACE_SECONDS", "5")
    register()
    first = login_pair()
    second = _refresh(first["refresh_token"]).body
    past = datetime.now(UTC) - timedelta(seconds=6)
    get_database().sessions.update_one({"_id": _sid(first["access_token"])}, {"$set": {"rotated_at": past}})

    reused = _refresh(first["refresh_token"])

    _assert_refused_and_ended(reused, first, "reuse")
    assert _refresh(second["refresh_token"]).status == 401


def test_a_retry_within_the_grace_survives_a_signing_key_swap(monkeypatch: pytest.MonkeyPatch) -> None:
    """The successor was derived with the key current then; after a swap that key is ``previous``."""
    import json

    old, new = "o" * 40, "n" * 40
    monkeypatch.setenv("JWT_SECRET", json.dumps({"current": old}))
    register()
    first = login_pair()
    answered = _refresh(first["refresh_token"]).body
    monkeypatch.setenv("JWT_SECRET", json.dumps({"current": new, "previous": old}))
    from shared import config

    config.clear_caches()

    retried = _refresh(first["refresh_token"])

    assert retried.status == 200
    assert retried.body["refresh_token"] == answered["refresh_token"]


def test_refresh_of_an_expired_session_returns_401() -> None:
    register()
    pair = login_pair()
    past = datetime.now(UTC) - timedelta(seconds=1)
    get_database().sessions.update_one({"_id": _sid(pair["access_token"])}, {"$set": {"expires_at": past}})

    result = _refresh(pair["refresh_token"])

    assert result.status == 401
    assert result.body == {"detail": "Invalid refresh token"}


def test_refresh_after_logout_returns_401() -> None:
    user = register()
    pair = login_pair()
    invoke("logout", user_id=user["id"], sid=_sid(pair["access_token"]))

    result = _refresh(pair["refresh_token"])

    assert result.status == 401
    assert result.body == {"detail": "Invalid refresh token"}


@pytest.mark.parametrize("change", [{"is_active": False}, {"deleted": True}])
def test_refresh_for_an_inactive_or_deleted_user_returns_401_and_ends_the_session(change: dict) -> None:
    user = register()
    pair = login_pair()
    if change.get("deleted"):
        get_database().users.delete_one({"_id": user["id"]})
    else:
        get_database().users.update_one({"_id": user["id"]}, {"$set": change})

    result = _refresh(pair["refresh_token"])

    _assert_refused_and_ended(result, pair, "revoked")


def test_refresh_of_a_session_older_than_sessions_valid_after_returns_401() -> None:
    user = register()
    pair = login_pair()
    later = datetime.now(UTC) + timedelta(seconds=1)
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"sessions_valid_after": later}})

    assert _refresh(pair["refresh_token"]).status == 401


def test_refresh_lifetime_follows_refresh_expire_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFRESH_EXPIRE_DAYS", "2")
    register()
    pair = login_pair()

    result = _refresh(pair["refresh_token"])

    assert pair["refresh_expires_in"] == result.body["refresh_expires_in"] == 2 * 24 * 3600
    session = get_database().sessions.find_one()
    assert timedelta(days=2) - timedelta(seconds=5) < session["expires_at"] - datetime.now(UTC) <= timedelta(days=2)


@pytest.mark.parametrize(
    "body",
    [{}, {"refresh_token": ""}, {"refresh_token": {"$ne": None}}, {"refresh_token": "x", "extra": 1}],
)
def test_refresh_with_a_missing_or_malformed_token_returns_422(body: dict) -> None:
    result = invoke("refresh_token", body=body)

    assert result.status == 422
    assert result.body["detail"][0]["loc"][0] == "body"
