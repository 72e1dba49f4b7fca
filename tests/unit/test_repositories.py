from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.accounts.models import UserPublic
from shared.accounts.users import UserRepository
from shared.data.client import get_database
from shared.data.pages import decode_cursor, encode_cursor
from shared.errors import Conflict, InvalidInput, NotFound
from shared.ids import new_id
from shared.prompts.models import PromptCreate
from shared.prompts.prompts import PromptRepository


def test_cursor_round_trips_to_the_millisecond() -> None:
    when = datetime(2026, 11, 26, 12, 0, 0, 123000, tzinfo=UTC)

    assert decode_cursor(encode_cursor(when, "some-id")) == (when, "some-id")


@pytest.mark.parametrize("cursor", ["", "!!!", "e30", "WzEsIDJd", "WyIxIiwgIngiXQ", "W3RydWUsICJ4Il0"])
def test_foreign_cursors_are_invalid_input(cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor)
    assert caught.value.detail == [{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}]


def test_new_ids_are_uuid7_in_creation_order() -> None:
    ids = [new_id() for _ in range(2000)]

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(i).version for i in ids} == {7}


def test_indexes_exist_as_the_design_requires() -> None:
    db = get_database()

    users = db.users.index_information()
    prompts = db.prompts.index_information()

    assert users["email_unique"]["unique"] is True
    assert users["email_unique"]["key"] == [("email", 1)]
    assert prompts["user_newest_first"]["key"][:2] == [("user_id", 1), ("created_at", -1)]


def test_user_repository_conflict_on_duplicate_email() -> None:
    repo = UserRepository()
    repo.create(email="ada@example.com", username="ada", hashed_password="h")

    with pytest.raises(Conflict):
        repo.create(email="ada@example.com", username="other", hashed_password="h")


def test_public_user_never_carries_the_hash() -> None:
    repo = UserRepository()
    created = repo.create(email="ada@example.com", username="ada", hashed_password="h")

    assert "hashed_password" not in created.model_dump()
    assert "hashed_password" not in repo.get(created.id).model_dump()  # type: ignore[union-attr]
    assert repo.get_by_email("ada@example.com").hashed_password == "h"  # type: ignore[union-attr]


def test_prompt_repository_scopes_every_operation_to_the_owner() -> None:
    repo = PromptRepository()
    prompt = repo.create("owner", PromptCreate(content="hello"))

    with pytest.raises(NotFound):
        repo.get("intruder", prompt.id)
    with pytest.raises(NotFound):
        repo.update("intruder", prompt.id, {"content": "x"})
    with pytest.raises(NotFound):
        repo.delete("intruder", prompt.id)
    assert repo.list("intruder", limit=10, cursor=None).items == []
    assert repo.get("owner", prompt.id).content == "hello"


def _stored_user(email: str = "ada@example.com") -> UserPublic:
    return UserRepository().create(email=email, username="ada", hashed_password="old-hash")


def test_replace_password_is_conditional_on_the_old_hash() -> None:
    user = _stored_user()
    users = UserRepository()
    cut = datetime(2026, 1, 1, tzinfo=UTC)

    assert users.replace_password(user.id, old_hash="old-hash", new_hash="new-hash", sessions_valid_after=cut) is True
    assert users.replace_password(user.id, old_hash="old-hash", new_hash="other-hash") is False

    stored = get_database().users.find_one({"_id": user.id})
    assert stored["hashed_password"] == "new-hash"
    assert stored["sessions_valid_after"] == cut


def test_update_username_changes_only_the_username_and_returns_no_hash() -> None:
    user = _stored_user()

    updated = UserRepository().update_username(user.id, "grace")

    assert updated == user.model_copy(update={"username": "grace"})
    assert get_database().users.find_one({"_id": user.id})["hashed_password"] == "old-hash"
    assert UserRepository().update_username("no-such-user", "x") is None


def test_delete_all_prompts_removes_only_that_users() -> None:
    ada, bob = _stored_user(), _stored_user("bob@example.com")
    prompts = PromptRepository()
    for owner in (ada, ada, bob):
        prompts.create(owner.id, PromptCreate(content="x"))

    assert prompts.delete_all(ada.id) == 2

    assert [p["user_id"] for p in get_database().prompts.find()] == [bob.id]


def test_is_active_is_false_for_inactive_and_missing_users() -> None:
    user = _stored_user()
    users = UserRepository()

    assert users.is_active(user.id) is True
    get_database().users.update_one({"_id": user.id}, {"$set": {"is_active": False}})
    assert users.is_active(user.id) is False
    get_database().users.delete_one({"_id": user.id})
    assert users.is_active(user.id) is False


def test_ensure_indexes_creates_the_session_and_login_attempt_indexes() -> None:
    sessions = get_database().sessions.index_information()
    attempts = get_database().login_attempts.index_information()

    assert sessions["refresh_hash_unique"]["unique"] is True
    assert sessions["refresh_hash_unique"]["key"] == [("refresh_hash", 1)]
    assert sessions["spent_hashes"]["key"] == [("spent_hashes", 1)]
    assert sessions["user"]["key"] == [("user_id", 1)]
    assert sessions["expires"]["expireAfterSeconds"] == 0
    assert attempts["expires"]["key"] == [("expires_at", 1)]
    assert attempts["expires"]["expireAfterSeconds"] == 0


def test_ensure_indexes_creates_the_reset_token_and_request_indexes() -> None:
    tokens = get_database().reset_tokens.index_information()
    requests = get_database().reset_requests.index_information()

    assert tokens["user"]["key"] == [("user_id", 1), ("created_at", 1)]
    assert tokens["expires"]["key"] == [("expires_at", 1)]
    assert tokens["expires"]["expireAfterSeconds"] == 0
    assert requests["expires"]["expireAfterSeconds"] == 0
