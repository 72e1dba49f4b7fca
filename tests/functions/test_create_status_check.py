from __future__ import annotations

import pytest

from shared.data.client import get_database
from tests.support import invoke, load_event


def test_create_status_check_fixture_returns_201() -> None:
    result = invoke("create_status_check", load_event("create_status_check"))

    assert result.status == 201
    assert set(result.body) == {"id", "client_name", "timestamp"}
    assert result.body["client_name"] == "web-frontend"
    assert get_database().status_checks.count_documents({"_id": result.body["id"]}) == 1


@pytest.mark.parametrize(
    "body", [{}, {"client_name": ""}, {"client_name": {"$ne": None}}, {"client_name": "x", "timestamp": "2020"}]
)
def test_create_status_check_invalid_body_returns_422(body: dict) -> None:
    result = invoke("create_status_check", body=body)

    assert result.status == 422
    assert result.body["detail"][0]["loc"][0] == "body"
    assert get_database().status_checks.count_documents({}) == 0


def test_create_status_check_is_public() -> None:
    assert invoke("create_status_check", user_id=None).status == 201
