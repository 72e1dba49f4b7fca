"""Every route that reads a JSON body: bodies that cannot be parsed are a 422, never a 500,
and the media type is compared without regard to letter case."""

from __future__ import annotations

import pytest

from shared.data.client import get_database
from tests.support import api_event, invoke, register

# route -> (collection it writes, a body it accepts)
JSON_ROUTES = {
    "register": ("users", {"email": "grace@example.com", "username": "grace", "password": "correct horse battery"}),
    "create_prompt": ("prompts", {"content": "Write a haiku about Lambda."}),
    "create_status_check": ("status_checks", {"client_name": "web-frontend"}),
}

UNPARSABLE = {
    "nested arrays 100,000 deep": "[" * 100_000 + "]" * 100_000,
    "nested objects 100,000 deep": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "an integer of 5,000 digits": '{"client_name": ' + "9" * 5_000 + "}",
    "NaN": '{"client_name": NaN}',
    "Infinity": '{"content": Infinity}',
    "a lone surrogate": '{"client_name": "\\ud800", "content": "\\udfff"}',
    "a lone surrogate in a key": '{"\\ud800": 1}',
    "truncated": '{"client_name": "web',
    "trailing garbage": '{"client_name": "web"} x',
}


def _stored(collection: str) -> int:
    return get_database()[collection].count_documents({})


@pytest.mark.parametrize("route", sorted(JSON_ROUTES))
@pytest.mark.parametrize("raw_body", UNPARSABLE.values(), ids=UNPARSABLE.keys())
def test_unparsable_json_body_returns_422_and_stores_nothing(route: str, raw_body: str) -> None:
    user_id = register("owner@example.com")["id"] if route == "create_prompt" else None
    collection, _ = JSON_ROUTES[route]
    before = _stored(collection)

    result = invoke(route, api_event(route, raw_body=raw_body, user_id=user_id or None))

    assert result.status == 422, result.body
    assert result.body["detail"] == [
        {"loc": ["body", result.body["detail"][0]["loc"][1]], "msg": "JSON decode error", "type": "json_invalid"}
    ]
    assert isinstance(result.body["detail"][0]["loc"][1], int)
    assert _stored(collection) == before


@pytest.mark.parametrize("route", sorted(JSON_ROUTES))
@pytest.mark.parametrize("depth", [900, 1_000, 3_000])
def test_deeply_nested_field_values_return_422(route: str, depth: int) -> None:
    user_id = register("owner@example.com")["id"] if route == "create_prompt" else None
    collection, body = JSON_ROUTES[route]
    field = next(iter(body))
    before = _stored(collection)
    raw_body = f'{{"{field}": ' + "[" * depth + "]" * depth + "}"

    result = invoke(route, api_event(route, raw_body=raw_body, user_id=user_id or None))

    assert result.status == 422, result.body
    assert {tuple(error) for error in result.body["detail"]} == {("loc", "msg", "type")}
    assert _stored(collection) == before


@pytest.mark.parametrize("route", sorted(JSON_ROUTES))
@pytest.mark.parametrize("content_type", ["Application/JSON", "APPLICATION/JSON; charset=UTF-8", "application/Json"])
def test_json_media_type_is_case_insensitive(route: str, content_type: str) -> None:
    user_id = register("owner@example.com")["id"] if route == "create_prompt" else None
    collection, body = JSON_ROUTES[route]
    event = api_event(route, body=body, headers={"Content-Type": content_type}, user_id=user_id or None)

    result = invoke(route, event)

    assert result.status == 201, result.body
    assert get_database()[collection].count_documents({"_id": result.body["id"]}) == 1


def test_non_json_media_type_in_capitals_is_still_415() -> None:
    result = invoke("create_status_check", api_event("create_status_check", headers={"Content-Type": "TEXT/PLAIN"}))

    assert result.status == 415
    assert result.body == {"detail": "Content-Type must be application/json"}
