"""Documents this API did not write never make a 500: the seed's (an ObjectId ``_id`` beside a string
``id``, ``tests/seed_data.py``) and malformed ones, on every read path. Each is skipped (or refused)
with a warning that names the collection and the fields at fault, never a value."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import jwt
import pytest

from shared.data.client import get_database
from shared.data.pages import forget_seed_checks
from tests.seed_data import seed_hash, seed_prompt, seed_status_check, seed_user
from tests.support import (
    PASSWORD,
    authorize,
    create_prompt,
    invoke,
    login,
    login_pair,
    register,
)

SECRET_CONTENT = "a prompt's text that no log line may show"


@pytest.fixture(autouse=True)
def fresh_seed_checks() -> Iterator[None]:
    forget_seed_checks()
    yield
    forget_seed_checks()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_list_status_checks_over_seed_documents_returns_only_this_apis_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    get_database().status_checks.insert_many([seed_status_check(SECRET_CONTENT, minutes=i) for i in range(25)])
    ours = [invoke("create_status_check", body={"client_name": f"web {i}"}).body["id"] for i in range(3)]

    with caplog.at_level(logging.WARNING):
        first = invoke("list_status_checks", query={"limit": "2"})
        second = invoke("list_status_checks", query={"limit": "2", "cursor": first.body["next_cursor"]})

    assert (first.status, second.status) == (200, 200)
    assert [c["id"] for c in first.body["items"] + second.body["items"]] == ours[::-1]
    assert second.body["next_cursor"] is None
    warnings = _warnings(caplog)
    assert warnings == [
        "status_checks holds documents with an ObjectId _id, left out of its pages; "
        "`make migrate-seed` converts the seed's documents"
    ]
    assert SECRET_CONTENT not in caplog.text


def test_list_prompts_skips_malformed_documents_of_the_caller_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    user = register()
    mine = [create_prompt(user["id"], f"prompt {i}")["id"] for i in range(4)]
    now = datetime.now(UTC)
    prompts = get_database().prompts
    prompts.insert_one(seed_prompt(user["id"], SECRET_CONTENT))  # the seed's, owned by the caller's id
    prompts.insert_one({"_id": "no-content", "user_id": user["id"], "created_at": now, "updated_at": now})
    prompts.insert_one({"_id": "int-content", "user_id": user["id"], "content": 7, "created_at": now})
    prompts.insert_one({"_id": "string-time", "user_id": user["id"], "content": "x", "created_at": "2025-03-01"})

    with caplog.at_level(logging.WARNING):
        ids, cursor = [], None
        while True:
            page = invoke(
                "list_prompts", query={"limit": "1", **({"cursor": cursor} if cursor else {})}, user_id=user["id"]
            )
            assert page.status == 200
            ids += [p["id"] for p in page.body["items"]]
            cursor = page.body["next_cursor"]
            if cursor is None:
                break

    assert ids == mine[::-1]
    skipped = [w for w in _warnings(caplog) if w.startswith("Skipped a prompts document")]
    assert "Skipped a prompts document this API cannot read (content: missing, response: missing)" in skipped[0]
    assert any("(content: string_type, response: missing, updated_at: missing)" in w for w in skipped)
    assert len(skipped) == 2  # the seed's and the one without a date are left out by the query
    assert any("holds documents with an ObjectId _id" in w for w in _warnings(caplog))
    assert SECRET_CONTENT not in caplog.text


def test_get_and_update_of_a_malformed_prompt_return_404() -> None:
    user = register()
    now = datetime.now(UTC)
    get_database().prompts.insert_one({"_id": "broken", "user_id": user["id"], "content": None, "created_at": now})

    got = invoke("get_prompt", path_params={"prompt_id": "broken"}, user_id=user["id"])
    patched = invoke("update_prompt", path_params={"prompt_id": "broken"}, body={"response": "r"}, user_id=user["id"])

    assert (got.status, got.body) == (404, {"detail": "Prompt not found"})
    assert (patched.status, patched.body) == (404, {"detail": "Prompt not found"})


def test_unmigrated_seed_user_with_the_right_password_gets_the_401_of_an_unknown_email(
    caplog: pytest.LogCaptureFixture,
) -> None:
    get_database().users.insert_one(seed_user("seed@example.com", hashed_password=seed_hash(PASSWORD)))

    with caplog.at_level(logging.WARNING):
        result = invoke("login", body={"email": "seed@example.com", "password": PASSWORD})

    assert (result.status, result.body) == (401, {"detail": "Incorrect email or password"})
    assert "Skipped a users document this API cannot read (_id of type ObjectId, not a string)" in caplog.text
    assert "seed@example.com" not in caplog.text
    assert get_database().sessions.count_documents({}) == 0


def test_registering_the_email_of_an_unmigrated_seed_user_is_409() -> None:
    get_database().users.insert_one(seed_user("seed@example.com", hashed_password=seed_hash(PASSWORD)))

    result = invoke("register", body={"email": "Seed@Example.com", "username": "s", "password": PASSWORD})

    assert (result.status, result.body) == (409, {"detail": "Email already registered"})


@pytest.mark.parametrize(
    "stored_hash",
    ["not a bcrypt hash", "$2b$04$short", "$2b$04$" + "!" * 53, None, 12],
    ids=["plain text", "truncated bcrypt", "bcrypt prefix, bad salt", "null", "a number"],
)
def test_login_of_a_user_whose_stored_hash_is_not_bcrypt_is_401(stored_hash: object) -> None:
    register("ada@example.com")
    get_database().users.update_one({"email": "ada@example.com"}, {"$set": {"hashed_password": stored_hash}})

    result = invoke("login", body={"email": "ada@example.com", "password": PASSWORD})

    assert (result.status, result.body) == (401, {"detail": "Incorrect email or password"})


@pytest.mark.parametrize(
    "change",
    [{"$unset": {"username": ""}}, {"$set": {"created_at": "yesterday"}}, {"$set": {"email": None}}],
    ids=["no username", "created_at a string", "email null"],
)
def test_me_of_a_malformed_user_is_401_and_login_is_401(change: dict) -> None:
    user = register("ada@example.com")
    context = authorize(login("ada@example.com"))["context"]
    get_database().users.update_one({"_id": user["id"]}, change)

    me = invoke("me", user_id=context["user_id"], sid=context["sid"])
    relogin = invoke("login", body={"email": "ada@example.com", "password": PASSWORD})

    assert (me.status, me.body) == (401, {"detail": "Could not validate credentials"})
    assert relogin.status == 401


def test_update_me_of_a_user_without_created_at_is_401() -> None:
    user = register("ada@example.com")
    context = authorize(login("ada@example.com"))["context"]
    get_database().users.update_one({"_id": user["id"]}, {"$unset": {"created_at": ""}})

    result = invoke("update_me", body={"username": "new"}, user_id=context["user_id"], sid=context["sid"])

    assert result.status == 401


@pytest.mark.parametrize(
    "change",
    [
        {"$unset": {"created_at": ""}},
        {"$set": {"created_at": "2025-03-01T12:00:00Z"}},
        {"$unset": {"user_id": ""}},
    ],
    ids=["no created_at", "created_at a string", "no user_id"],
)
def test_authorizer_and_refresh_refuse_a_malformed_session(change: dict) -> None:
    register()
    pair = login_pair()
    sid = jwt.decode(pair["access_token"], options={"verify_signature": False})["sid"]
    get_database().sessions.update_one({"_id": sid}, change)

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(pair["access_token"])
    refreshed = invoke("refresh_token", body={"refresh_token": pair["refresh_token"]})

    assert (refreshed.status, refreshed.body) == (401, {"detail": "Invalid refresh token"})


def test_authorizer_refuses_a_user_whose_sessions_valid_after_is_malformed() -> None:
    user = register()
    token = login()
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"sessions_valid_after": "never"}})

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(token)


@pytest.mark.parametrize(
    "attempts",
    [{"count": "3", "expires_at": datetime(2999, 1, 1, tzinfo=UTC)}, {"count": 3}, {}],
    ids=["count a string", "no expiry", "empty"],
)
def test_login_over_a_malformed_attempts_document_succeeds(attempts: dict) -> None:
    register()
    get_database().login_attempts.insert_one({"_id": "ada@example.com", **attempts})

    result = invoke("login", body={"email": "ada@example.com", "password": PASSWORD})

    assert result.status == 200
    window = get_database().login_attempts.find_one({"_id": "ada@example.com"})
    assert window is not None and window["count"] == 0  # a window of its own in its place, the login taken back
    assert window["expires_at"] > datetime.now(UTC)
