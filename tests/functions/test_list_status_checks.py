from __future__ import annotations

import pytest

from tests.support import invoke, load_event


def _record(name: str) -> str:
    result = invoke("create_status_check", body={"client_name": name})
    assert result.status == 201
    return str(result.body["id"])


def test_list_status_checks_fixture_returns_newest_first() -> None:
    ids = [_record(f"client {i}") for i in range(3)]

    result = invoke("list_status_checks", load_event("list_status_checks"))

    assert result.status == 200
    assert [item["id"] for item in result.body["items"]] == ids[::-1]
    assert result.body["next_cursor"] is None


def test_list_status_checks_pagination_walks_every_item_exactly_once() -> None:
    ids = [_record(f"client {i}") for i in range(5)]
    seen: list[str] = []
    query = {"limit": "2"}
    for _ in range(10):
        result = invoke("list_status_checks", query=query)
        seen += [item["id"] for item in result.body["items"]]
        if result.body["next_cursor"] is None:
            break
        query = {"limit": "2", "cursor": result.body["next_cursor"]}

    assert seen == ids[::-1]


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "1000"}, {"cursor": "%%%"}])
def test_list_status_checks_bad_query_returns_422(query: dict) -> None:
    result = invoke("list_status_checks", query=query)

    assert result.status == 422
    assert result.body["detail"][0]["loc"][0] == "query"
