from __future__ import annotations

import pytest

from tests.support import create_prompt, invoke, load_event, register


def _walk(user_id: str, limit: int) -> tuple[list[str], int]:
    ids: list[str] = []
    pages = 0
    query: dict[str, str] = {"limit": str(limit)}
    while True:
        result = invoke("list_prompts", query=query, user_id=user_id)
        assert result.status == 200
        assert len(result.body["items"]) <= limit
        ids += [item["id"] for item in result.body["items"]]
        pages += 1
        if result.body["next_cursor"] is None:
            return ids, pages
        query = {"limit": str(limit), "cursor": result.body["next_cursor"]}


def test_list_prompts_fixture_returns_page_shape() -> None:
    event = load_event("list_prompts")
    create_prompt(event["requestContext"]["authorizer"]["user_id"], "only one")

    result = invoke("list_prompts", event)

    assert result.status == 200
    assert set(result.body) == {"items", "next_cursor"}
    assert [p["content"] for p in result.body["items"]] == ["only one"]
    assert result.body["next_cursor"] is None


def test_list_prompts_is_newest_first_and_only_the_callers() -> None:
    ada, bob = register("ada@example.com"), register("bob@example.com")
    mine = [create_prompt(ada["id"], f"ada {i}")["id"] for i in range(3)]
    create_prompt(bob["id"], "bob's")

    result = invoke("list_prompts", user_id=ada["id"])

    assert [p["id"] for p in result.body["items"]] == mine[::-1]
    assert all(p["user_id"] == ada["id"] for p in result.body["items"])


@pytest.mark.parametrize(("count", "limit", "pages"), [(7, 3, 3), (6, 3, 2), (0, 5, 1), (5, 100, 1), (4, 1, 4)])
def test_list_prompts_pagination_walks_every_item_exactly_once(count: int, limit: int, pages: int) -> None:
    user = register()
    created = [create_prompt(user["id"], f"prompt {i}")["id"] for i in range(count)]

    ids, walked_pages = _walk(user["id"], limit)

    assert ids == created[::-1]
    assert walked_pages == pages


def test_list_prompts_pagination_breaks_ties_on_equal_timestamps() -> None:
    from shared.data.client import get_database

    user = register()
    created = [create_prompt(user["id"], f"prompt {i}")["id"] for i in range(5)]
    same_time = get_database().prompts.find_one({"_id": created[0]})["created_at"]
    get_database().prompts.update_many({}, {"$set": {"created_at": same_time}})

    ids, _ = _walk(user["id"], 2)

    assert sorted(ids) == sorted(created)
    assert len(ids) == len(set(ids)) == 5


def test_list_prompts_default_limit_is_20() -> None:
    user = register()
    for i in range(21):
        create_prompt(user["id"], f"prompt {i}")

    result = invoke("list_prompts", query={}, user_id=user["id"])

    assert len(result.body["items"]) == 20
    assert result.body["next_cursor"] is not None


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5"])
def test_list_prompts_out_of_range_limit_returns_422(limit: str) -> None:
    user = register()

    result = invoke("list_prompts", query={"limit": limit}, user_id=user["id"])

    assert result.status == 422
    assert result.body["detail"][0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize("cursor", ["garbage!", "bm90IGpzb24", "WzEsMl0", "WyJhIiwiYiJd"])
def test_list_prompts_bad_cursor_returns_422(cursor: str) -> None:
    user = register()

    result = invoke("list_prompts", query={"cursor": cursor}, user_id=user["id"])

    assert result.status == 422
    assert result.body["detail"] == [{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}]


def test_list_prompts_without_authorizer_context_returns_401() -> None:
    assert invoke("list_prompts", user_id=None).status == 401


def test_list_prompts_empty_cursor_means_the_first_page() -> None:
    user = register()
    created = create_prompt(user["id"])

    result = invoke("list_prompts", query={"cursor": ""}, user_id=user["id"])

    assert result.status == 200
    assert [p["id"] for p in result.body["items"]] == [created["id"]]
