from __future__ import annotations

import time

import pytest

from shared.data.client import get_database
from tests.support import create_prompt, invoke, load_event, register


def _update(prompt_id: str, user_id: str, body: dict):
    return invoke("update_prompt", path_params={"prompt_id": prompt_id}, body=body, user_id=user_id)


def test_update_prompt_fixture_sets_response_and_moves_updated_at() -> None:
    event = load_event("update_prompt")
    owner = event["requestContext"]["authorizer"]["user_id"]
    prompt = create_prompt(owner, "question")
    time.sleep(0.002)

    result = _update(prompt["id"], owner, {"response": "1. ... 2. ... 3. ..."})

    assert result.status == 200
    assert result.body["response"] == "1. ... 2. ... 3. ..."
    assert result.body["content"] == "question"
    assert result.body["created_at"] == prompt["created_at"]
    assert result.body["updated_at"] > prompt["updated_at"]
    assert get_database().prompts.find_one({"_id": prompt["id"]})["response"] == "1. ... 2. ... 3. ..."


def test_update_prompt_content_only_keeps_response() -> None:
    user = register()
    prompt = create_prompt(user["id"], "old", response="answer")

    result = _update(prompt["id"], user["id"], {"content": "new"})

    assert (result.status, result.body["content"], result.body["response"]) == (200, "new", "answer")


def test_update_prompt_null_response_clears_it() -> None:
    user = register()
    prompt = create_prompt(user["id"], "q", response="answer")

    result = _update(prompt["id"], user["id"], {"response": None})

    assert result.status == 200
    assert result.body["response"] is None


def test_update_prompt_of_other_user_returns_404_and_changes_nothing() -> None:
    ada, bob = register("ada@example.com"), register("bob@example.com")
    prompt = create_prompt(ada["id"], "ada's")

    result = _update(prompt["id"], bob["id"], {"content": "hijacked"})

    assert result.status == 404
    assert get_database().prompts.find_one({"_id": prompt["id"]})["content"] == "ada's"


def test_update_prompt_missing_returns_404() -> None:
    user = register()

    assert _update("0b5f4c1e-8c1e-4a55-9e39-3f6f8f0b8a10", user["id"], {"content": "x"}).status == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"content": None},
        {"content": ""},
        {"content": {"$set": "x"}},
        {"user_id": "someone-else"},
        {"content": "x", "updated_at": "2020-01-01T00:00:00Z"},
        {"content": "x" * 100_001},
    ],
)
def test_update_prompt_invalid_body_returns_422_and_changes_nothing(body: dict) -> None:
    user = register()
    prompt = create_prompt(user["id"], "original")

    result = _update(prompt["id"], user["id"], body)

    assert result.status == 422
    assert result.body["detail"][0]["loc"][0] == "body"
    stored = get_database().prompts.find_one({"_id": prompt["id"]})
    assert (stored["content"], stored["user_id"]) == ("original", user["id"])
