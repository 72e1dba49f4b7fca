from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest

from shared.accounts.users import UserRepository
from shared.data.client import get_database
from shared.errors import ServiceUnavailable
from shared.http.idempotency import KEY_REUSED
from shared.prompts.models import MAX_CONTENT_CHARS
from tests.support import (
    PASSWORD,
    HttpResult,
    api_event,
    context_of,
    fixture_user,
    invoke,
    load_event,
    login_pair,
    register,
)


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


# Idempotency-Key ------------------------------------------------------------------------------


def _create(user_id: str, key: str | None, content: str = "Write a haiku about Lambda.", **extra: Any) -> HttpResult:
    headers = {"Idempotency-Key": key} if key is not None else None
    return invoke("create_prompt", body={"content": content, **extra}, user_id=user_id, headers=headers)


def test_create_prompt_repeated_with_its_idempotency_key_replays_the_first_response_and_stores_once() -> None:
    user = register()
    first = _create(user["id"], "order-42")

    again = _create(user["id"], "order-42")

    assert first.status == again.status == 201
    assert again.body == first.body
    assert get_database().prompts.count_documents({}) == 1
    assert get_database().idempotency.count_documents({}) == 1


def test_create_prompt_idempotency_key_header_name_is_case_insensitive() -> None:
    user = register()
    first = _create(user["id"], "k")

    again = invoke(
        "create_prompt",
        body={"content": "Write a haiku about Lambda."},
        user_id=user["id"],
        headers={"idempotency-key": "k"},
    )

    assert (again.status, again.body) == (201, first.body)
    assert get_database().prompts.count_documents({}) == 1


def test_create_prompt_reusing_an_idempotency_key_with_another_body_returns_422_and_stores_nothing() -> None:
    user = register()
    first = _create(user["id"], "order-42")

    other = _create(user["id"], "order-42", content="Something else")

    assert other.status == 422
    assert other.body["detail"] == [
        {"loc": ["header", "Idempotency-Key"], "msg": KEY_REUSED, "type": "idempotency_key_reused"}
    ]
    assert [p["_id"] for p in get_database().prompts.find()] == [first.body["id"]]


def test_create_prompt_while_the_first_request_with_its_key_runs_answers_the_same_prompt() -> None:
    user = register()
    first = _create(user["id"], "order-42")
    # What the record looks like while the first request still runs: claimed, not completed yet.
    get_database().idempotency.update_one({}, {"$unset": {"response": ""}})

    again = _create(user["id"], "order-42")

    assert (again.status, again.body) == (201, first.body)
    assert [p["_id"] for p in get_database().prompts.find()] == [first.body["id"]]
    assert get_database().idempotency.find_one({})["response"] == first.body


def test_create_prompt_retried_after_its_prompt_was_stored_but_the_owner_check_failed_answers_that_prompt() -> None:
    user = register()
    users = get_database().users
    failing = patch.object(UserRepository, "is_active", side_effect=ServiceUnavailable("Database unavailable"))
    with failing:
        assert _create(user["id"], "order-42").status == 503
    assert get_database().prompts.count_documents({}) == 1

    again = _create(user["id"], "order-42")

    assert again.status == 201
    assert [p["_id"] for p in get_database().prompts.find()] == [again.body["id"]]
    assert users.count_documents({}) == 1


def test_create_prompt_keyed_ids_are_uuids_derived_from_user_key_and_first_use() -> None:
    user = register()

    prompt = _create(user["id"], "order-42").body

    assert uuid.UUID(prompt["id"]).version == 8
    record = get_database().idempotency.find_one({})
    assert record is not None and record["user_id"] == user["id"]
    assert set(record) == {"_id", "user_id", "body_hash", "first_used", "expiration", "response"}


def test_create_prompt_same_idempotency_key_of_two_users_creates_two_prompts() -> None:
    ada = register()
    bob = register("bob@example.com", username="bob")

    first = _create(ada["id"], "same-key")
    second = _create(bob["id"], "same-key")

    assert first.status == second.status == 201
    assert first.body["id"] != second.body["id"]
    assert second.body["user_id"] == bob["id"]
    assert get_database().prompts.count_documents({}) == 2
    assert get_database().idempotency.count_documents({}) == 2


def test_create_prompt_with_an_idempotency_key_older_than_24_hours_creates_a_new_prompt() -> None:
    user = register()
    first = _create(user["id"], "order-42")
    record = get_database().idempotency.find_one({})
    assert record is not None
    assert record["expiration"] - datetime.now(UTC) > timedelta(hours=23, minutes=59)
    get_database().idempotency.update_one({}, {"$set": {"expiration": datetime.now(UTC) - timedelta(seconds=1)}})

    again = _create(user["id"], "order-42")

    assert again.status == 201
    assert again.body["id"] != first.body["id"]
    assert get_database().prompts.count_documents({}) == 2
    assert get_database().idempotency.count_documents({}) == 1


def test_create_prompt_that_fails_can_be_retried_with_its_key() -> None:
    user = register()
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"is_active": False}})
    assert _create(user["id"], "order-42").status == 401
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"is_active": True}})

    retried = _create(user["id"], "order-42")

    assert retried.status == 201
    assert get_database().prompts.count_documents({}) == 1


@pytest.mark.parametrize("key", ["", "k" * 256, "caf\u00e9", "tab\there", "line\nbreak", "\x7f"])
def test_create_prompt_with_an_invalid_idempotency_key_returns_422_and_stores_nothing(key: str) -> None:
    user = register()

    result = _create(user["id"], key)

    assert result.status == 422
    assert result.body["detail"] == [
        {
            "loc": ["header", "Idempotency-Key"],
            "msg": "Must be 1 to 255 printable ASCII characters",
            "type": "value_error",
        }
    ]
    assert get_database().prompts.count_documents({}) == 0


@pytest.mark.parametrize("key", ["k", "k" * 255, "Order 42: ~!@#$%^&*()_+{}|<>?"])
def test_create_prompt_accepts_idempotency_keys_of_printable_ascii_up_to_255(key: str) -> None:
    user = register()

    assert _create(user["id"], key).status == 201
    assert _create(user["id"], key).status == 201
    assert get_database().prompts.count_documents({}) == 1


def test_create_prompt_without_idempotency_key_stores_each_request_and_no_record() -> None:
    user = register()

    first, second = _create(user["id"], None), _create(user["id"], None)

    assert first.status == second.status == 201
    assert first.body["id"] != second.body["id"]
    assert get_database().prompts.count_documents({}) == 2
    assert get_database().idempotency.count_documents({}) == 0


def test_create_prompt_with_an_idempotency_key_and_no_database_returns_503(unreachable_mongodb: str) -> None:
    result = _create("0b5f4c1e-8c1e-4a55-9e39-3f6f8f0b8a10", "order-42")

    assert result.status == 503
    assert result.body == {"detail": "Database unavailable"}
