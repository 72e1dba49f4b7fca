from __future__ import annotations

from unittest.mock import patch

import pytest

from shared.accounts.owned_data import OWNED
from shared.accounts.sessions import SessionRepository
from shared.data.client import get_database
from shared.errors import ServiceUnavailable
from tests.support import (
    PASSWORD,
    authorize,
    context_of,
    create_prompt,
    fixture_user,
    invoke,
    load_event,
    login_pair,
    register,
)


def _delete(access_token: str, password: str = PASSWORD):
    context = authorize(access_token, route=("DELETE", "/api/me"))["context"]
    return invoke("delete_me", body={"password": password}, user_id=context["user_id"], sid=context["sid"])


def test_delete_me_fixture_of_an_unknown_password_returns_400_and_deletes_nothing() -> None:
    event = load_event("delete_me")
    user_id = fixture_user(event)

    result = invoke("delete_me", event)

    assert result.status == 400
    assert result.body == {"detail": "Incorrect password"}
    assert get_database().users.count_documents({"_id": user_id}) == 1


def test_delete_me_removes_the_user_their_prompts_and_sessions_and_nothing_else() -> None:
    ada = register()
    bob = register("bob@example.com", username="bob")
    pair = login_pair()
    login_pair()
    bobs = login_pair("bob@example.com")
    create_prompt(ada["id"], "ada 1")
    create_prompt(ada["id"], "ada 2")
    bobs_prompt = create_prompt(bob["id"], "bob's")

    result = _delete(pair["access_token"])

    assert result.status == 204
    assert result.raw_body in (None, "")
    db = get_database()
    assert db.users.count_documents({"_id": ada["id"]}) == 0
    assert db.prompts.count_documents({"user_id": ada["id"]}) == 0
    assert db.sessions.count_documents({"user_id": ada["id"]}) == 0
    assert [p["_id"] for p in db.prompts.find()] == [bobs_prompt["id"]]
    assert db.sessions.count_documents({"user_id": bob["id"]}) == 1
    assert authorize(bobs["access_token"])["principalId"] == bob["id"]


@pytest.mark.parametrize("collection", [owned.name for owned in OWNED if owned.by_user_id])
def test_delete_me_leaves_a_document_that_lists_the_user_among_others(collection: str) -> None:
    """Written by someone else (this API never writes a list): it is no one's alone, so not the user's
    to delete, though MongoDB would match the list by its elements."""
    ada = register()
    pair = login_pair()
    get_database()[collection].insert_one({"_id": "foreign", "user_id": [ada["id"], "someone-else"]})

    result = _delete(pair["access_token"])

    assert result.status == 204
    assert get_database()[collection].count_documents({"_id": "foreign"}) == 1
    assert get_database().users.count_documents({"_id": ada["id"]}) == 0


def test_after_delete_me_the_tokens_are_refused_and_the_email_registers_again() -> None:
    ada = register()
    pair = login_pair()

    _delete(pair["access_token"])

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(pair["access_token"])
    assert invoke("refresh_token", body={"refresh_token": pair["refresh_token"]}).status == 401
    assert invoke("login", body={"email": "ada@example.com", "password": PASSWORD}).status == 401
    again = register("ADA@example.com", username="ada again")
    assert again["id"] != ada["id"]
    assert again["email"] == "ada@example.com"


def test_delete_me_with_a_wrong_password_returns_400_and_deletes_nothing() -> None:
    user = register()
    pair = login_pair()
    create_prompt(user["id"])

    result = _delete(pair["access_token"], password="not the password")

    assert result.status == 400
    assert result.body == {"detail": "Incorrect password"}
    db = get_database()
    assert db.users.count_documents({"_id": user["id"]}) == 1
    assert db.prompts.count_documents({"user_id": user["id"]}) == 1
    assert authorize(pair["access_token"])["principalId"] == user["id"]


def test_delete_me_again_with_a_stale_context_returns_401() -> None:
    register()
    pair = login_pair()
    context = context_of(pair["access_token"])
    _delete(pair["access_token"])

    result = invoke("delete_me", body={"password": PASSWORD}, user_id=context["user_id"], sid=context["sid"])

    assert result.status == 401


@pytest.mark.parametrize("body", [{}, {"password": ""}, {"password": PASSWORD, "email": "ada@example.com"}])
def test_delete_me_with_a_missing_or_extra_field_returns_422(body: dict) -> None:
    user = register()

    result = invoke("delete_me", body=body, user_id=user["id"])

    assert result.status == 422
    assert get_database().users.count_documents({"_id": user["id"]}) == 1


def test_delete_me_without_authorizer_context_returns_401() -> None:
    assert invoke("delete_me", user_id=None).status == 401


STAGE_ARN = "/".join(load_event("authorizer")["methodArn"].split("/", 2)[:2])


def _fail_removing_sessions():
    return patch.object(SessionRepository, "delete_all", side_effect=ServiceUnavailable("Database unavailable"))


def test_delete_me_failing_halfway_leaves_an_account_dead_for_every_purpose() -> None:
    register()
    pair, other = login_pair(), login_pair()
    with _fail_removing_sessions():
        assert _delete(pair["access_token"]).status == 503

    assert invoke("login", body={"email": "ada@example.com", "password": PASSWORD}).status == 401
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(other["access_token"])
    # The session that asked may only retry the deletion.
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(pair["access_token"])  # GET /api/me
    (statement,) = authorize(pair["access_token"], route=("DELETE", "/api/me"))["policyDocument"]["Statement"]
    assert statement["Resource"] == [f"{STAGE_ARN}/DELETE/api/me"]
    assert invoke("refresh_token", body={"refresh_token": pair["refresh_token"]}).status == 401
    # The tombstone holds the email until the deletion completes.
    taken = invoke("register", body={"email": "ada@example.com", "username": "ada", "password": PASSWORD})
    assert taken.status == 409


def test_delete_me_retried_after_failing_halfway_completes_the_deletion_and_answers_204() -> None:
    user = register()
    pair = login_pair()
    create_prompt(user["id"])
    with _fail_removing_sessions():
        assert _delete(pair["access_token"]).status == 503

    retried = _delete(pair["access_token"])

    assert retried.status == 204
    db = get_database()
    assert [db[name].count_documents({}) for name in ("users", "prompts", "sessions", "idempotency")] == [0, 0, 0, 0]
    assert register()["email"] == "ada@example.com"


def test_delete_me_removes_the_accounts_idempotency_records_and_login_attempts() -> None:
    user = register()
    pair = login_pair()
    headers = {"Idempotency-Key": "k"}
    assert invoke("create_prompt", body={"content": "x"}, user_id=user["id"], headers=headers).status == 201
    assert invoke("login", body={"email": "ada@example.com", "password": "wrong password"}).status == 401

    assert _delete(pair["access_token"]).status == 204

    assert get_database().idempotency.count_documents({}) == 0
    assert get_database().login_attempts.count_documents({}) == 0


def test_wrong_passwords_count_against_the_login_limits_then_429_even_when_right() -> None:
    user = register()
    pair = login_pair()

    statuses = [_delete(pair["access_token"], password="not the password").status for _ in range(25)]
    right = _delete(pair["access_token"])

    assert statuses == [400] * 5 + [429] * 20
    assert right.status == 429
    assert right.body == {"detail": "Too many wrong passwords; try again later"}
    assert get_database().users.count_documents({"_id": user["id"]}) == 1


def test_the_right_password_after_a_few_wrong_ones_deletes_the_account() -> None:
    user = register()
    pair = login_pair()

    statuses = [_delete(pair["access_token"], password="not the password").status for _ in range(4)]

    assert statuses == [400] * 4
    assert _delete(pair["access_token"]).status == 204
    assert get_database().users.count_documents({"_id": user["id"]}) == 0
