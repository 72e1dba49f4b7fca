"""PreflightFunction: OPTIONS on every path, with several allowed origins (DESIGN.md v3, "CORS"): the
request's own origin when it is allowed, every method and header the API accepts, ``Vary: Origin``;
no CORS header otherwise."""

from __future__ import annotations

import pytest

from shared.http.contract import ALLOWED_METHODS, ALLOWED_REQUEST_HEADERS
from tests.support import api_event, invoke

ORIGINS = "https://app.example.com, https://admin.example.com"


@pytest.fixture(autouse=True)
def two_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", ORIGINS)


def preflight_event(headers: dict[str, str]) -> dict[str, object]:
    """The preflight fixture (an OPTIONS event of PreflightFunction) with these request headers."""
    event = api_event("preflight", headers=headers)
    event["headers"] = {k: v for k, v in event["headers"].items() if k != "Origin"} | headers
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    return event


@pytest.mark.parametrize("origin", ["https://app.example.com", "https://admin.example.com"])
def test_preflight_names_the_allowed_origin_alone_every_method_and_header(origin: str) -> None:
    result = invoke("preflight", preflight_event({"Origin": origin}))

    assert result.status == 204
    assert result.raw_body == ""
    assert result.headers["Access-Control-Allow-Origin"] == origin
    assert result.headers["Access-Control-Allow-Methods"] == ",".join(ALLOWED_METHODS)
    assert set(ALLOWED_REQUEST_HEADERS) <= set(result.headers["Access-Control-Allow-Headers"].split(","))
    assert result.headers["Access-Control-Max-Age"] == "600"
    assert result.headers["Vary"] == "Origin"


@pytest.mark.parametrize(
    "headers", [{"Origin": "https://evil.example.com"}, {"origin": "https://evil.example.com"}, {}]
)
def test_preflight_from_another_or_no_origin_gets_no_cors_headers_but_still_varies(headers: dict[str, str]) -> None:
    result = invoke("preflight", preflight_event(headers))

    assert result.status == 204
    assert not any(name.startswith("Access-Control-") for name in result.headers)
    assert result.headers["Vary"] == "Origin"


def test_preflight_origin_header_is_case_insensitive() -> None:
    result = invoke("preflight", preflight_event({"origin": "https://admin.example.com"}))

    assert result.headers["Access-Control-Allow-Origin"] == "https://admin.example.com"


def test_preflight_with_any_origin_is_a_wildcard_that_needs_no_vary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "*")

    result = invoke("preflight", preflight_event({"Origin": "https://app.example.com"}))

    assert result.status == 204
    assert result.headers["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in result.headers
