"""The same flows against a real MongoDB, when MONGODB_URI points at one.

The autouse environment fixture clears MONGODB_URI for every test, so the address is read
once here, at collection.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.support import PASSWORD, create_prompt, invoke, login, register

REAL_MONGODB_URI = os.environ.get("MONGODB_URI", "")

pytestmark = [
    pytest.mark.mongodb,
    pytest.mark.skipif(not REAL_MONGODB_URI, reason="MONGODB_URI is not set: no real MongoDB to test against"),
]


@pytest.fixture(autouse=True)
def real_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"prompt_api_test_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("MONGODB_URI", REAL_MONGODB_URI)
    monkeypatch.setenv("MONGODB_DB_NAME", name)
    yield name
    from shared.db import get_client

    get_client().drop_database(name)


def test_health_reports_ok_on_real_mongodb() -> None:
    result = invoke("health")

    assert (result.status, result.body["database"]) == (200, "ok")


def test_duplicate_email_in_any_case_is_409_on_real_unique_index() -> None:
    register("Ada@Example.com")

    result = invoke("register", body={"email": "ADA@example.COM", "username": "x", "password": PASSWORD})

    assert result.status == 409


def test_prompt_journey_on_real_mongodb() -> None:
    user = register()
    login()
    created = [create_prompt(user["id"], f"prompt {i}")["id"] for i in range(5)]

    seen: list[str] = []
    query = {"limit": "2"}
    while True:
        page = invoke("list_prompts", query=query, user_id=user["id"]).body
        seen += [p["id"] for p in page["items"]]
        if page["next_cursor"] is None:
            break
        query = {"limit": "2", "cursor": page["next_cursor"]}
    updated = invoke("update_prompt", path_params={"prompt_id": created[0]}, body={"response": "r"}, user_id=user["id"])
    deleted = invoke("delete_prompt", path_params={"prompt_id": created[1]}, user_id=user["id"])

    assert seen == created[::-1]
    assert (updated.status, updated.body["response"]) == (200, "r")
    assert deleted.status == 204
