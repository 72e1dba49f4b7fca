from __future__ import annotations

import json
from typing import Any

import pytest

from shared.data.pages import PAGE_MAX_BYTES, RESPONSE_MAX_BYTES, response_bytes
from shared.prompts.models import MAX_CONTENT_CHARS, PromptPublic
from tests.support import (
    FakeContext,
    api_event,
    create_prompt,
    ensure_user,
    invoke,
    load_event,
    load_function,
    register,
)


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


# Pages fit Lambda. What each page costs is measured on the handler's real proxy response: the body
# as the client receives it, and the whole response as Lambda's Python runtime serializes it
# (awslambdaric: ensure_ascii=False since python3.12, default separators), whose limit is 6,291,556 bytes.
LAMBDA_RESPONSE_LIMIT = 6_291_556
EMOJI = "\U0001f600"  # 12 bytes once JSON-escaped (a surrogate pair), 14 inside the Lambda response


def _store_prompts(user_id: str, count: int, text: str) -> list[str]:
    """``count`` prompts of ``text`` as content and response, oldest first (written directly: the
    handler would take seconds validating each)."""
    from shared.data.client import get_database
    from shared.ids import new_id, utcnow

    ensure_user(user_id)
    ids = []
    for _ in range(count):
        now = utcnow()
        doc = {
            "_id": new_id(),
            "user_id": user_id,
            "content": text,
            "response": text,
            "created_at": now,
            "updated_at": now,
        }
        get_database().prompts.insert_one(doc)
        ids.append(doc["_id"])
    return ids


def _pages(user_id: str, query: dict[str, str] | None = None) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every page, following next_cursor: (the handler's proxy response, its parsed body)."""
    pages = []
    query = dict(query or {})
    handler = load_function("list_prompts").lambda_handler
    while True:
        response = handler(api_event("list_prompts", query=query, user_id=user_id), FakeContext())
        assert response["statusCode"] == 200, response["body"][:200]
        body = json.loads(response["body"])
        pages.append((response, body))
        if body["next_cursor"] is None:
            return pages
        query["cursor"] = body["next_cursor"]


def _lambda_bytes(response: dict[str, Any]) -> int:
    return len(json.dumps(response, ensure_ascii=False).encode())


def test_list_prompts_pages_of_the_largest_prompts_fit_lambda() -> None:
    created = _store_prompts("u-large", 5, EMOJI * MAX_CONTENT_CHARS)
    one_item = len(
        json.dumps(
            PromptPublic.model_validate(
                {
                    "id": created[0],
                    "user_id": "u-large",
                    "content": EMOJI * MAX_CONTENT_CHARS,
                    "response": EMOJI * MAX_CONTENT_CHARS,
                    "created_at": "2026-01-01T00:00:00Z",
                    "updated_at": "2026-01-01T00:00:00Z",
                }
            ).model_dump(mode="json"),
            separators=(",", ":"),
        )
    )

    pages = _pages("u-large")  # the default limit, 20: five of these would be 12 MB of body

    assert [len(body["items"]) for _, body in pages] == [2, 2, 1]
    assert [item["id"] for _, body in pages for item in body["items"]] == created[::-1]
    for response, _ in pages:
        assert len(response["body"].encode()) <= PAGE_MAX_BYTES
        assert _lambda_bytes(response) <= LAMBDA_RESPONSE_LIMIT
    assert 2_400_000 < one_item < 2_401_000  # the largest item is 2.4 MB of body: a page always holds one


def test_list_prompts_page_stops_at_the_lambda_response_size_when_escaping_doubles_the_body() -> None:
    # A '"' is 2 bytes of body and 4 in the Lambda response: these pages are full at about 6 MB of
    # response while their bodies are near 3 MB, which a body-only measure would have let grow to 10 MB.
    created = _store_prompts("u-quotes", 10, '"' * MAX_CONTENT_CHARS)

    pages = _pages("u-quotes")

    assert [item["id"] for _, body in pages for item in body["items"]] == created[::-1]
    first, body = pages[0]
    assert len(body["items"]) == 7
    assert len(first["body"].encode()) < 3_000_000
    assert RESPONSE_MAX_BYTES - 900_000 < response_bytes(first["body"]) <= RESPONSE_MAX_BYTES
    assert _lambda_bytes(first) <= LAMBDA_RESPONSE_LIMIT


def test_list_prompts_page_stops_at_5_mb_of_body() -> None:
    # Plain ASCII: body and response sizes are about equal, so the 5 MB of body is what ends a page.
    created = _store_prompts("u-ascii", 30, "a" * MAX_CONTENT_CHARS)

    pages = _pages("u-ascii", {"limit": "100"})

    sizes = [len(response["body"].encode()) for response, _ in pages]
    assert [len(body["items"]) for _, body in pages] == [24, 6]
    assert PAGE_MAX_BYTES - 200_001 < sizes[0] <= PAGE_MAX_BYTES  # one more item (200 kB) would not fit
    assert [item["id"] for _, body in pages for item in body["items"]] == created[::-1]


def test_list_prompts_size_stops_and_limit_stops_mix_without_skipping_or_repeating() -> None:
    big = _store_prompts("u-mixed", 3, EMOJI * MAX_CONTENT_CHARS)
    small = _store_prompts("u-mixed", 4, "small")
    bigger = _store_prompts("u-mixed", 2, EMOJI * MAX_CONTENT_CHARS)

    pages = _pages("u-mixed", {"limit": "3"})

    assert [item["id"] for _, body in pages for item in body["items"]] == (big + small + bigger)[::-1]
    assert [len(body["items"]) for _, body in pages] == [3, 3, 2, 1]  # 2 large + 1 small fit together
