"""The sweep over documents this API did not write: the seed's (``tests/seed_data.py``), before and after
``make migrate-seed``, and malformed ones. It removes only this API's own orphans (a string ``_id``, no
``seed_object_id``, and no user document naming the owner, by ``_id`` or by a seed user's ``id``); what it
cannot read it skips, with one warning per run and collection that names the field, and it goes on."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest

from shared.accounts.account_removal import finish_deletion
from shared.accounts.users import UserRepository
from shared.data.client import get_database
from shared.data.migrate_seed import migrate
from shared.ids import new_id, utcnow
from shared.prompts.models import PromptCreate
from shared.prompts.prompts import PromptRepository
from tests.seed_data import SEED_EPOCH, seed_hash, seed_prompt, seed_user
from tests.support import PASSWORD, context_of, create_prompt, invoke, login_pair, register, run_sweeper

MARKER = "a value no log line may show"


def _late_prompt_of_a_deleted_account(email: str = "gone@example.com") -> str:
    """A real orphan: the prompt a create racing with its user's deletion wrote after the user was removed."""
    user = register(email, username="gone")
    context = context_of(login_pair(email)["access_token"])
    assert invoke("delete_me", body={"password": PASSWORD}, user_id=user["id"], sid=context["sid"]).status == 204
    assert get_database().users.count_documents({"_id": user["id"]}) == 0
    return PromptRepository().create(user["id"], PromptCreate(content="written too late")).id


def _prompts_of(*user_ids: str) -> list[int]:
    return [get_database().prompts.count_documents({"user_id": user_id}) for user_id in user_ids]


def _sweep_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "shared.accounts.sweep" and r.levelno == logging.WARNING
    ]


def test_the_sweep_keeps_every_prompt_of_a_seed_database_not_yet_migrated(caplog: pytest.LogCaptureFixture) -> None:
    db = get_database()
    ada = seed_user("Ada@Example.com", hashed_password=seed_hash("ada's"), username="ada", minutes=1)
    bob = seed_user("bob@example.com", hashed_password=seed_hash("bob's"), username="bob", minutes=2)
    db.users.insert_many([ada, bob])
    db.prompts.insert_many([seed_prompt(ada["id"], f"ada {i}", minutes=10 + i) for i in range(5)])
    db.prompts.insert_many([seed_prompt(bob["id"], "bob's"), seed_prompt(new_id(), "of no user at all")])
    ownerless = seed_prompt(new_id(), "no user_id at all")
    del ownerless["user_id"]
    db.prompts.insert_one(ownerless)
    orphan = _late_prompt_of_a_deleted_account()

    with caplog.at_level(logging.WARNING):
        result = run_sweeper()

    assert result == {"deletions_completed": 0, "orphans_removed": 1}
    assert _prompts_of(ada["id"], bob["id"]) == [5, 1]
    assert db.prompts.count_documents({"_id": {"$type": "objectId"}}) == 8  # every seed prompt kept
    assert db.prompts.count_documents({"_id": orphan}) == 0
    assert db.prompts.count_documents({}) == 8
    assert _sweep_warnings(caplog) == []  # the seed's documents are not the sweep's to read
    assert run_sweeper() == {"deletions_completed": 0, "orphans_removed": 0}


def test_after_the_migration_the_sweep_keeps_the_prompts_of_users_it_left_and_of_no_user() -> None:
    db = get_database()
    first = seed_user("Eve@Example.com", hashed_password=seed_hash("eve's"), username="eve", minutes=1)
    conflict = seed_user("eve@example.com", hashed_password=seed_hash("eve's too"), username="eve", minutes=2)
    invalid = seed_user("nohash@example.com", hashed_password="x", username="no hash", minutes=3)
    del invalid["hashed_password"]
    no_address = seed_user("not an address", hashed_password=seed_hash("na"), username="na", minutes=4)
    left = (conflict, invalid, no_address)
    db.users.insert_many([first, *left])
    nobody = new_id()
    db.prompts.insert_many([seed_prompt(user["id"], f"{i}", minutes=10 + i) for i, user in enumerate((first, *left))])
    db.prompts.insert_one(seed_prompt(nobody, "of no user at all"))
    report = migrate(db)
    assert (report.collections["users"].converted, report.left) == (1, 3)
    assert report.collections["prompts"].converted == 5
    assert report.orphan_prompts == 4  # those of the users left, and nobody's: the operator's to decide
    orphan = _late_prompt_of_a_deleted_account()

    result = run_sweeper()

    assert result == {"deletions_completed": 0, "orphans_removed": 1}
    assert _prompts_of(first["id"], *(user["id"] for user in left), nobody) == [1, 1, 1, 1, 1]
    assert db.prompts.count_documents({"_id": orphan}) == 0
    assert [db.users.find_one({"_id": user["_id"]}) for user in left] == list(left)  # exactly as they were


def test_a_document_in_this_apis_shape_whose_owner_is_a_seed_users_id_is_no_orphan() -> None:
    db = get_database()
    seed = seed_user("seed@example.com", hashed_password=seed_hash("s"))
    listed = {**seed_user("listed@example.com", hashed_password=seed_hash("l")), "id": [new_id(), new_id()]}
    db.users.insert_many([seed, listed])
    now = utcnow()
    for owner in (seed["id"], listed["id"][1]):
        db.prompts.insert_one(
            {"_id": new_id(), "user_id": owner, "content": "x", "response": None, "created_at": now, "updated_at": now}
        )
        db.sessions.insert_one(
            {"_id": new_id(), "user_id": owner, "refresh_hash": new_id(), "created_at": now, "expires_at": now}
        )
    orphan = _late_prompt_of_a_deleted_account()

    assert run_sweeper() == {"deletions_completed": 0, "orphans_removed": 1}
    assert _prompts_of(seed["id"], listed["id"][1]) == [1, 1]
    assert db.sessions.count_documents({"user_id": {"$in": [seed["id"], listed["id"][1]]}}) == 2
    assert db.prompts.count_documents({"_id": orphan}) == 0


def test_a_prompt_naming_an_orphan_and_a_user_in_a_list_is_not_removed_with_the_orphan() -> None:
    user = register()
    orphan = new_id()
    now = utcnow()
    db = get_database()
    db.prompts.insert_many(
        [
            {"_id": new_id(), "user_id": orphan, "content": "x", "created_at": now, "updated_at": now},
            {"_id": "both", "user_id": [orphan, user["id"]], "content": "x", "created_at": now, "updated_at": now},
        ]
    )

    assert run_sweeper()["orphans_removed"] == 1
    assert db.prompts.count_documents({"_id": "both"}) == 1


def test_owners_the_sweep_cannot_read_are_skipped_said_once_per_collection_and_the_rest_goes_on(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    db = get_database()
    kept = register()
    create_prompt(kept["id"])
    now = utcnow()
    shapes: list[dict[str, Any]] = [
        {"user_id": [new_id(), MARKER]},
        {"user_id": [new_id()]},
        {"user_id": {"id": MARKER}},
        {"user_id": 7},
        {"user_id": None},
        {},
    ]
    db.prompts.insert_many(
        [{"_id": f"bad {i}", **shape, "content": MARKER, "created_at": now} for i, shape in enumerate(shapes)]
    )
    db.sessions.insert_many(
        [{"_id": f"bad {i}", **shape, "refresh_hash": f"h{i}", "created_at": now} for i, shape in enumerate(shapes)]
    )
    orphan = new_id()
    db.prompts.insert_one({"_id": new_id(), "user_id": orphan, "content": "x", "created_at": now, "updated_at": now})
    db.sessions.insert_one(
        {"_id": new_id(), "user_id": orphan, "refresh_hash": "h", "created_at": now, "expires_at": now}
    )
    capsys.readouterr()

    with caplog.at_level(logging.WARNING):
        result = run_sweeper()

    assert result == {"deletions_completed": 0, "orphans_removed": 2}
    assert db.prompts.count_documents({"_id": {"$regex": "^bad "}}) == len(shapes)
    assert db.sessions.count_documents({"_id": {"$regex": "^bad "}}) == len(shapes)
    assert _prompts_of(kept["id"], orphan) == [1, 0]
    assert _sweep_warnings(caplog) == [
        f"The sweep skipped {name} documents it cannot read (user_id: not a string); they are left as they are"
        for name in ("prompts", "sessions")
    ]
    assert MARKER not in caplog.text
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    published = {k: v for line in lines for k, v in line.items() if k in ("DeletionsCompleted", "OrphansRemoved")}
    assert published == {"DeletionsCompleted": [0.0], "OrphansRemoved": [2.0]}


def test_tombstone_looking_users_the_sweep_cannot_read_are_left_and_said_once_and_deletions_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = get_database()
    deleting = register("deleting@example.com", username="deleting")
    create_prompt(deleting["id"])
    assert UserRepository().mark_deleting(deleting["id"], session_id=new_id(), sessions_valid_after=utcnow())
    long_ago = SEED_EPOCH - timedelta(days=1)  # older than every tombstone below: first in the sweep's order
    db.users.update_one({"_id": deleting["id"]}, {"$set": {"deleted_at": utcnow() - timedelta(minutes=2)}})
    word = register("word@example.com", username="word")
    create_prompt(word["id"])
    db.users.update_one({"_id": word["id"]}, {"$set": {"deleted_at": "2025-03-01", "is_active": False}})
    listed = register("listed@example.com", username="listed")
    create_prompt(listed["id"])
    # A list holding a date: MongoDB's $type and $lt match a list by its elements.
    db.users.update_one({"_id": listed["id"]}, {"$set": {"deleted_at": [long_ago], "is_active": False}})
    seed = {**seed_user("seed@example.com", hashed_password=seed_hash("s")), "deleted_at": long_ago}
    numbered = {"_id": 42, "email": MARKER, "deleted_at": long_ago}
    db.users.insert_many([seed, numbered])

    assert UserRepository().deleting_since(utcnow(), limit=10) == [deleting["id"]]
    with caplog.at_level(logging.WARNING):
        result = run_sweeper()

    assert result == {"deletions_completed": 1, "orphans_removed": 0}
    assert db.users.count_documents({"_id": deleting["id"]}) == 0
    assert db.users.count_documents({}) == 4
    assert _prompts_of(deleting["id"], word["id"], listed["id"]) == [0, 1, 1]
    assert _sweep_warnings(caplog) == [
        "The sweep skipped users documents it cannot read (_id: not a string, deleted_at: not a date); "
        "they are left as they are"
    ]
    assert MARKER not in caplog.text
    for foreign in (word["id"], listed["id"]):  # not tombstones of this API's: nothing of them is removed
        assert finish_deletion(foreign) is False
        assert (db.users.count_documents({"_id": foreign}), _prompts_of(foreign)) == (1, [1])
