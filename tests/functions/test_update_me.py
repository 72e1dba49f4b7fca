from __future__ import annotations

import pytest

from shared.data.client import get_database
from tests.support import fixture_user, invoke, load_event, register


def test_update_me_fixture_changes_the_username() -> None:
    event = load_event("update_me")
    user_id = fixture_user(event)

    result = invoke("update_me", event)

    assert result.status == 200
    assert result.body["id"] == user_id
    assert result.body["username"] == "ada lovelace"
    assert set(result.body) == {"id", "email", "username", "created_at", "is_active"}
    assert get_database().users.find_one({"_id": user_id})["username"] == "ada lovelace"


def test_update_me_strips_the_username_and_changes_nothing_else() -> None:
    user = register()
    before = get_database().users.find_one({"_id": user["id"]})

    result = invoke("update_me", body={"username": "  grace  "}, user_id=user["id"])

    assert result.status == 200
    assert result.body == {**user, "username": "grace"}
    after = get_database().users.find_one({"_id": user["id"]})
    assert after == {**before, "username": "grace"}


@pytest.mark.parametrize(
    "body",
    [
        {"username": "x", "email": "other@example.com"},
        {"username": "x", "password": "another password"},
        {"username": "x", "is_active": False},
        {"username": "x", "id": "chosen-id"},
        {"email": "other@example.com"},
    ],
)
def test_update_me_with_any_other_field_returns_422_and_changes_nothing(body: dict) -> None:
    user = register()
    before = get_database().users.find_one({"_id": user["id"]})

    result = invoke("update_me", body=body, user_id=user["id"])

    assert result.status == 422
    assert result.body["detail"][0]["loc"][0] == "body"
    assert get_database().users.find_one({"_id": user["id"]}) == before


@pytest.mark.parametrize(
    "body", [{}, {"username": ""}, {"username": "   "}, {"username": None}, {"username": "x" * 65}]
)
def test_update_me_with_a_missing_or_invalid_username_returns_422(body: dict) -> None:
    user = register()

    result = invoke("update_me", body=body, user_id=user["id"])

    assert result.status == 422


def test_update_me_of_a_deleted_user_returns_401() -> None:
    user = register()
    get_database().users.delete_one({"_id": user["id"]})

    result = invoke("update_me", body={"username": "ghost"}, user_id=user["id"])

    assert result.status == 401
    assert get_database().users.count_documents({}) == 0


def test_update_me_without_authorizer_context_returns_401() -> None:
    assert invoke("update_me", user_id=None).status == 401
