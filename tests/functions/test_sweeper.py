"""The scheduled sweep: finishes interrupted deletions (tombstones older than a minute), removes orphans
(documents whose user does not exist), in bounded batches, idempotently, and says what it did."""

from __future__ import annotations

import json
from datetime import timedelta
from unittest.mock import patch

import pytest

from shared.accounts import sweep as sweep_module
from shared.accounts.owned_data import OWNED
from shared.accounts.sessions import SessionRepository
from shared.accounts.users import UserRepository
from shared.data.client import get_database
from shared.errors import ServiceUnavailable
from shared.ids import new_id, utcnow
from tests.support import context_of, create_prompt, invoke, login_pair, register, run_sweeper


def _interrupted_deletion(email: str = "ada@example.com") -> str:
    """An account whose deletion stopped after its tombstone: its prompts and sessions are still there."""
    user = register(email, username=email.split("@")[0])
    pair = login_pair(email)
    create_prompt(user["id"])
    context = context_of(pair["access_token"])
    with patch.object(SessionRepository, "delete_all", side_effect=ServiceUnavailable("Database unavailable")):
        deleted = invoke(
            "delete_me", body={"password": "correct horse battery"}, user_id=user["id"], sid=context["sid"]
        )
    assert deleted.status == 503
    return str(user["id"])


def _age_tombstones(by: timedelta) -> None:
    get_database().users.update_many({"deleted_at": {"$ne": None}}, [{"$set": {"deleted_at": utcnow() - by}}])


def _documents_of(user_id: str) -> dict[str, int]:
    db = get_database()
    counts = {o.name: db[o.name].count_documents({"user_id": user_id}) for o in OWNED if o.by_user_id}
    return {**counts, "users": db.users.count_documents({"_id": user_id})}


def test_sweeper_fixture_on_an_empty_database_does_nothing() -> None:
    assert run_sweeper() == {"deletions_completed": 0, "orphans_removed": 0}


def test_sweeper_finishes_a_deletion_interrupted_more_than_a_minute_ago() -> None:
    user_id = _interrupted_deletion()
    _age_tombstones(timedelta(minutes=2))

    result = run_sweeper()

    assert result == {"deletions_completed": 1, "orphans_removed": 0}
    assert set(_documents_of(user_id).values()) == {0}
    assert register()["email"] == "ada@example.com"  # the email is free again


def test_sweeper_leaves_a_deletion_of_the_last_minute_to_its_request() -> None:
    user_id = _interrupted_deletion()

    assert run_sweeper() == {"deletions_completed": 0, "orphans_removed": 0}
    assert _documents_of(user_id)["users"] == 1


def test_sweeper_removes_orphans_and_keeps_the_data_of_existing_and_deleting_users() -> None:
    kept = register()
    create_prompt(kept["id"])
    login_pair()
    deleting = _interrupted_deletion("bob@example.com")
    orphan = new_id()
    now = utcnow()
    db = get_database()
    db.prompts.insert_many([{"_id": new_id(), "user_id": orphan, "content": "x", "created_at": now} for _ in range(3)])
    db.sessions.insert_one({"_id": new_id(), "user_id": orphan, "created_at": now, "ended_at": now})
    db.idempotency.insert_one({"_id": "h", "user_id": orphan, "expiration": now + timedelta(hours=1)})
    db.reset_tokens.insert_one({"_id": "t", "user_id": orphan, "created_at": now, "expires_at": now})

    result = run_sweeper()

    assert result == {"deletions_completed": 0, "orphans_removed": 6}
    assert set(_documents_of(orphan).values()) == {0}
    assert _documents_of(kept["id"]) == {"prompts": 1, "idempotency": 0, "reset_tokens": 0, "sessions": 1, "users": 1}
    assert _documents_of(deleting)["users"] == 1
    assert run_sweeper() == {"deletions_completed": 0, "orphans_removed": 0}  # idempotent


def test_sweeper_works_in_bounded_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep_module, "DELETIONS_PER_RUN", 2)
    monkeypatch.setattr(sweep_module, "OWNERS_PER_RUN", 2)
    for name in ("a", "b", "c"):
        _interrupted_deletion(f"{name}@example.com")
    _age_tombstones(timedelta(minutes=2))
    now = utcnow()
    get_database().prompts.insert_many(
        [{"_id": new_id(), "user_id": new_id(), "content": "x", "created_at": now} for _ in range(3)]
    )

    first, second = run_sweeper(), run_sweeper()

    assert (first["deletions_completed"], second["deletions_completed"]) == (2, 1)
    assert first["orphans_removed"] == 2
    assert get_database().users.count_documents({}) == 0


def test_sweeper_publishes_what_it_finished_as_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    _interrupted_deletion()
    _age_tombstones(timedelta(minutes=2))

    run_sweeper()

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    published = {k: v for line in lines for k, v in line.items() if k in ("DeletionsCompleted", "OrphansRemoved")}
    assert published == {"DeletionsCompleted": [1.0], "OrphansRemoved": [0.0]}


def test_sweeper_without_a_database_fails_so_that_its_alarm_fires(unreachable_mongodb: str) -> None:
    with pytest.raises(ServiceUnavailable):
        run_sweeper()


def test_sweep_finishing_a_deletion_also_counts_nothing_for_a_user_removed_meanwhile() -> None:
    user_id = _interrupted_deletion()
    _age_tombstones(timedelta(minutes=2))
    UserRepository().remove_tombstone(user_id)

    assert run_sweeper()["deletions_completed"] == 0
