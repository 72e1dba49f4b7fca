from __future__ import annotations

import pytest

from shared.db import get_database
from shared.models import MAX_CONTENT_CHARS
from tests.support import PASSWORD, api_event, context_of, fixture_user, invoke, load_event, login_pair, register


def test_create_prompt_fixture_stores_prompt_for_the_caller() -> None:
    event = load_event("create_prompt")
    user_id = fixture_user(event)

    result = invoke("create_prompt", event)

    assert result.status == 201
    assert set(result.body) == {"id", "user_id", "content", "response", "created_at", "updated_at"}
    assert result.body["user_id"] == user_id
    assert result.body["content"] == "Summarise this article in three bullet points."
    assert result.body["response"] is None
    assert result.body["created_at"] == result.body["updated_at"]
    stored = get_database().prompts.find_one({"_id": result.body["id"]})
    assert stored is not None
    assert stored["user_id"] == user_id


def test_create_prompt_with_response() -> None:
    user = register()

    result = invoke("create_prompt", body={"content": "Hi", "response": "Hello!"}, user_id=user["id"])

    assert result.status == 201
    assert result.body["response"] == "Hello!"


@pytest.mark.parametrize(
    ("body", "loc", "error_type"),
    [
        ({"content": "x", "user_id": "someone-else"}, ["body", "user_id"], "extra_forbidden"),
        ({"content": "x", "id": "chosen-id"}, ["body", "id"], "extra_forbidden"),
        ({"content": "x", "created_at": "2020-01-01T00:00:00Z"}, ["body", "created_at"], "extra_forbidden"),
        ({"content": {"$ne": None}}, ["body", "content"], "string_type"),
        ({"content": ""}, ["body", "content"], "string_too_short"),
        ({"content": "   "}, ["body", "content"], "value_error"),
        ({"content": "x" * (MAX_CONTENT_CHARS + 1)}, ["body", "content"], "string_too_long"),
        ({"content": "x", "response": "y" * (MAX_CONTENT_CHARS + 1)}, ["body", "response"], "string_too_long"),
        ({}, ["body", "content"], "missing"),
    ],
)
def test_create_prompt_invalid_body_returns_422_and_stores_nothing(body: dict, loc: list, error_type: str) -> None:
    user = register()

    result = invoke("create_prompt", body=body, user_id=user["id"])

    assert result.status == 422
    assert [(e["loc"], e["type"]) for e in result.body["detail"]] == [(loc, error_type)]
    assert get_database().prompts.count_documents({}) == 0


def test_create_prompt_accepts_content_of_exactly_the_limit() -> None:
    user = register()

    result = invoke("create_prompt", body={"content": "x" * MAX_CONTENT_CHARS}, user_id=user["id"])

    assert result.status == 201
    assert len(result.body["content"]) == MAX_CONTENT_CHARS


def test_create_prompt_malformed_json_returns_422() -> None:
    result = invoke("create_prompt", api_event("create_prompt", raw_body='{"content": '))

    assert result.status == 422
    assert result.body["detail"][0]["type"] == "json_invalid"


def test_create_prompt_without_authorizer_context_returns_401() -> None:
    result = invoke("create_prompt", user_id=None)

    assert result.status == 401
    assert get_database().prompts.count_documents({}) == 0


def test_create_prompt_with_the_stale_context_of_a_deleted_user_returns_401_and_stores_nothing() -> None:
    user = register()
    pair = login_pair()
    context = context_of(pair["access_token"])  # what API Gateway may still serve from its cache
    deleted = invoke("delete_me", body={"password": PASSWORD}, user_id=context["user_id"], sid=context["sid"])
    assert deleted.status == 204

    result = invoke("create_prompt", body={"content": "written after"}, user_id=user["id"], sid=context["sid"])

    assert result.status == 401
    assert get_database().prompts.count_documents({}) == 0


def test_create_prompt_for_an_inactive_user_returns_401_and_stores_nothing() -> None:
    user = register()
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"is_active": False}})

    result = invoke("create_prompt", body={"content": "hello"}, user_id=user["id"])

    assert result.status == 401
    assert get_database().prompts.count_documents({}) == 0
