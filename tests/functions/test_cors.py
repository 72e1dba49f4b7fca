"""The functions' own CORS headers with several allowed origins (DESIGN.md v3, "CORS"): each response
names only the request's own origin when it is allowed, none otherwise, and says ``Vary: Origin``."""

from __future__ import annotations

import pytest

from tests.support import api_event, invoke, register

ORIGINS = "https://app.example.com, https://admin.example.com"


@pytest.fixture(autouse=True)
def two_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", ORIGINS)


@pytest.mark.parametrize("origin", ["https://app.example.com", "https://admin.example.com"])
@pytest.mark.parametrize("route", ["health", "list_status_checks", "me"])
def test_allowed_origin_is_named_alone_and_response_varies_by_origin(route: str, origin: str) -> None:
    user_id = register()["id"] if route == "me" else None
    changes = {"user_id": user_id} if user_id else {}

    result = invoke(route, api_event(route, headers={"Origin": origin}, **changes))

    assert result.status == 200
    assert result.headers["Access-Control-Allow-Origin"] == origin
    assert result.headers["Vary"] == "Origin"


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example.com"}, {}])
def test_other_or_no_origin_gets_no_cors_headers_but_still_varies(headers: dict[str, str]) -> None:
    result = invoke("health", api_event("health", headers=headers))

    assert result.status == 200
    assert not any(name.startswith("Access-Control-") for name in result.headers)
    assert result.headers["Vary"] == "Origin"


def test_error_responses_name_the_allowed_origin_too() -> None:
    event = api_event("register", raw_body="{", headers={"Origin": "https://admin.example.com"})

    result = invoke("register", event)

    assert result.status == 422
    assert result.headers["Access-Control-Allow-Origin"] == "https://admin.example.com"
    assert result.headers["Vary"] == "Origin"


@pytest.mark.parametrize("route", ["health", "register"])
def test_any_origin_is_a_wildcard_that_needs_no_vary(route: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "*")
    changes = {"raw_body": "{"} if route == "register" else {}  # an error response carries CORS too

    result = invoke(route, api_event(route, headers={"Origin": "https://app.example.com"}, **changes))

    assert result.status == (422 if route == "register" else 200)
    assert result.headers["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in result.headers
