"""``make migrate-seed`` on documents shaped exactly as the seed's app wrote them (``tests/seed_data.py``),
in the tests' store: the conversion, its report, a failure halfway and the run after it, and then the
seed's users logging in through the login handler with their old passwords and finding their prompts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import pymongo
import pytest
from pymongo.errors import AutoReconnect

from shared import config
from shared.accounts.passwords import hash_cost
from shared.data import migrate_seed
from shared.data.client import get_database
from shared.data.indexes import INDEXES
from shared.data.migrate_seed import migrate
from shared.data.ownership import SEED_ID
from tests.seed_data import seed_hash, seed_prompt, seed_status_check, seed_user
from tests.support import PASSWORD, authorize, invoke, register

ADA_PASSWORD, BOB_PASSWORD = "ada's old seed password", "bob's old seed password"


def _seed_database() -> dict[str, Any]:
    """A database as the seed left it: two users (Bob's hash at another cost than BCRYPT_ROUNDS), their
    prompts, status checks, and the seed's own indexes (unique ``email_1`` and ``id_1``)."""
    db = get_database()
    for name in ("users", "prompts", "status_checks"):  # the seed's database, not this API's
        db[name].drop_indexes()
    db.users.create_index("email", unique=True, name="email_1")
    db.users.create_index("id", unique=True, name="id_1")
    ada = seed_user("Ada@Example.com", hashed_password=seed_hash(ADA_PASSWORD), username="ada", minutes=1)
    bob = seed_user("bob@example.com", hashed_password=seed_hash(BOB_PASSWORD, rounds=5), username="bob", minutes=2)
    db.users.insert_many([ada, bob])
    prompts = [seed_prompt(ada["id"], f"ada {i}", response=f"answer {i}", minutes=10 + i) for i in range(5)]
    prompts += [seed_prompt(bob["id"], "bob's", minutes=20)]
    db.prompts.insert_many(prompts)
    checks = [seed_status_check(f"web {i}", minutes=30 + i) for i in range(3)]
    db.status_checks.insert_many(checks)
    return {"ada": ada, "bob": bob, "prompts": prompts, "checks": checks}


def _seed_documents_left() -> int:
    db = get_database()
    return sum(db[n].count_documents({"_id": {"$type": "objectId"}}) for n in ("users", "prompts", "status_checks"))


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    db = get_database()
    return {n: sorted(db[n].find(), key=str) for n in ("users", "prompts", "status_checks")}


def test_migrated_seed_users_log_in_with_their_old_passwords_and_keep_their_prompts() -> None:
    seed = _seed_database()

    report = migrate(get_database())

    assert {name: c.summary() for name, c in report.collections.items()} == {
        "users": "2 converted, 0 finished from an earlier run, 0 conflicts, 0 invalid",
        "prompts": "6 converted, 0 finished from an earlier run, 0 conflicts, 0 invalid",
        "status_checks": "3 converted, 0 finished from an earlier run, 0 conflicts, 0 invalid",
    }
    assert sorted(report.dropped_indexes) == ["users.email_1", "users.id_1"]
    assert not report.unfinished()
    assert _seed_documents_left() == 0
    stored = get_database().users.find_one({"_id": seed["ada"]["id"]})
    assert stored == {
        "_id": seed["ada"]["id"],
        "email": "ada@example.com",
        "username": "ada",
        "hashed_password": seed["ada"]["hashed_password"],
        "created_at": seed["ada"]["created_at"],
        "is_active": True,
        SEED_ID: seed["ada"]["_id"],
    }

    login = invoke("login", body={"email": "ada@example.com", "password": ADA_PASSWORD})
    assert login.status == 200
    context = authorize(login.body["access_token"])["context"]
    assert context["user_id"] == seed["ada"]["id"]
    page = invoke("list_prompts", user_id=context["user_id"], sid=context["sid"])
    assert page.status == 200
    ada_prompts = [p for p in seed["prompts"] if p["user_id"] == seed["ada"]["id"]]
    assert [p["id"] for p in page.body["items"]] == [p["id"] for p in ada_prompts[::-1]]
    assert page.body["items"][0] == {
        "id": ada_prompts[-1]["id"],
        "user_id": seed["ada"]["id"],
        "content": "ada 4",
        "response": "answer 4",
        "created_at": "2025-03-01T12:14:00Z",
        "updated_at": "2025-03-01T12:14:30Z",
    }
    got = invoke("get_prompt", path_params={"prompt_id": ada_prompts[0]["id"]}, user_id=context["user_id"])
    assert (got.status, got.body["content"]) == (200, "ada 0")
    checks = invoke("list_status_checks", query={})
    assert [c["id"] for c in checks.body["items"]] == [c["id"] for c in seed["checks"][::-1]]


def test_a_seed_hash_at_another_cost_is_kept_then_rehashed_by_the_first_login() -> None:
    seed = _seed_database()
    migrate(get_database())
    assert hash_cost(get_database().users.find_one({"_id": seed["bob"]["id"]})["hashed_password"]) == 5

    assert invoke("login", body={"email": "Bob@Example.com", "password": BOB_PASSWORD}).status == 200
    assert invoke("login", body={"email": "bob@example.com", "password": "not bob's password"}).status == 401

    assert hash_cost(get_database().users.find_one({"_id": seed["bob"]["id"]})["hashed_password"]) == 4


def test_after_the_migration_new_users_register_and_the_indexes_are_this_apis() -> None:
    _seed_database()
    migrate(get_database())

    register("carol@example.com")
    register("dave@example.com")  # with the seed's unique id_1 left, this second one would be refused

    assert invoke("register", body={"email": "ADA@example.com", "username": "a", "password": PASSWORD}).status == 409
    for collection, indexes in INDEXES.items():
        names = {i["name"] for i in get_database()[collection].list_indexes()}
        assert {i.name for i in indexes} <= names


def test_a_second_run_changes_nothing() -> None:
    _seed_database()
    migrate(get_database())
    before = _snapshot()

    report = migrate(get_database())

    assert [c.summary() for c in report.collections.values()] == [
        "0 converted, 0 finished from an earlier run, 0 conflicts, 0 invalid"
    ] * 3
    assert report.dropped_indexes == ["users.email_unique"]  # this API's own, re-created at the end
    assert _snapshot() == before


def test_a_run_that_fails_halfway_is_finished_by_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    seed = _seed_database()
    real_delete_one = mongomock.collection.Collection.delete_one
    calls = {"prompts": 0}

    def delete_one_failing_on_the_third_prompt(self: Any, filter: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
        if self.name == "prompts":
            calls["prompts"] += 1
            if calls["prompts"] == 3:
                raise AutoReconnect("connection reset")  # after the third prompt's insert, before its delete
        return real_delete_one(self, filter, *args, **kwargs)

    with monkeypatch.context() as patch, pytest.raises(AutoReconnect):
        patch.setattr(mongomock.collection.Collection, "delete_one", delete_one_failing_on_the_third_prompt)
        migrate(get_database())
    halfway = get_database().prompts
    assert halfway.count_documents({"_id": {"$type": "objectId"}}) == 4
    assert halfway.count_documents({"_id": {"$type": "string"}}) == 3  # the third is in both shapes

    report = migrate(get_database())

    assert (
        report.collections["prompts"].summary() == "3 converted, 1 finished from an earlier run, 0 conflicts, 0 invalid"
    )
    assert report.collections["users"].converted == 0
    assert report.collections["status_checks"].converted == 3
    assert _seed_documents_left() == 0
    assert sorted(p["_id"] for p in get_database().prompts.find()) == sorted(p["id"] for p in seed["prompts"])
    assert invoke("login", body={"email": "ada@example.com", "password": ADA_PASSWORD}).status == 200


def test_emails_differing_only_in_letter_case_keep_the_first_registered_and_report_the_other() -> None:
    db = get_database()
    first = seed_user("Eve@Example.com", hashed_password=seed_hash("eve's first password"), minutes=1)
    later = seed_user("eve@example.com", hashed_password=seed_hash("eve's later password"), minutes=2)
    db.users.insert_many([later, first])  # stored in another order than they registered

    report = migrate(db)

    assert report.collections["users"].converted == 1
    assert report.collections["users"].conflicts == [
        f"users {later['_id']} (id {later['id']}): its email is taken, in any letter case, by user {first['id']}"
    ]
    assert db.users.find_one({"_id": later["_id"]}) == later  # left exactly as it was
    assert report.index_error == "DuplicateKeyError, code 11000"  # the same email twice: no unique index yet
    assert report.unfinished()
    ok = invoke("login", body={"email": "eve@example.com", "password": "eve's first password"})
    refused = invoke("login", body={"email": "eve@example.com", "password": "eve's later password"})
    assert (ok.status, refused.status) == (200, 401)

    db.users.delete_one({"_id": later["_id"]})  # the operator's decision
    again = migrate(db)
    assert not again.unfinished()
    assert "users.email_unique" in again.indexes


def test_a_seed_user_whose_email_a_user_of_this_api_has_is_a_conflict() -> None:
    mine = register("zoe@example.com")
    seed = seed_user("Zoe@example.com", hashed_password=seed_hash("z"))
    get_database().users.insert_one(seed)

    report = migrate(get_database())

    assert report.collections["users"].conflicts == [
        f"users {seed['_id']} (id {seed['id']}): its email is taken, in any letter case, by user {mine['id']}"
    ]
    assert report.index_error is None  # the seed's stays in mixed case: the index can be built


def test_documents_it_cannot_convert_are_left_and_reported_by_field_never_by_value() -> None:
    db = get_database()
    no_hash = seed_user("nohash@example.com", hashed_password="x")
    del no_hash["hashed_password"]
    no_id = seed_status_check("web")
    del no_id["id"]
    same_id = seed_prompt("some-user", "a twin")
    twin = {**seed_prompt("some-user", "the other twin"), "id": same_id["id"]}
    bad = [
        (db.users, no_hash),
        (db.prompts, {**seed_prompt("some-user", "x"), "content": 42}),
        (db.prompts, {**seed_prompt("some-user", "y"), "created_at": "the first of March"}),
        (db.status_checks, no_id),
    ]
    for collection, doc in bad:
        collection.insert_one(doc)
    db.prompts.insert_many([same_id, twin])

    report = migrate(db)

    assert report.collections["users"].invalid == [f"users {no_hash['_id']}: hashed_password: missing"]
    assert sorted(report.collections["prompts"].invalid) == sorted(
        [f"prompts {bad[1][1]['_id']}: content: int", f"prompts {bad[2][1]['_id']}: created_at: not an ISO 8601 time"]
    )
    assert report.collections["prompts"].conflicts == [
        f"prompts {twin['_id']} (id {twin['id']}): another document already has this id"
    ]
    assert report.collections["status_checks"].invalid == [f"status_checks {no_id['_id']}: id: missing"]
    assert _seed_documents_left() == 5
    assert report.orphan_prompts == 1  # the twin converted, its user is nobody here
    text = "\n".join(report.lines())
    assert "nohash@example.com" not in text and "the other twin" not in text


def test_seed_documents_the_api_would_refuse_are_left_as_they_were_and_counted_by_reason() -> None:
    db = get_database()
    fine = seed_user("Fine@Example.com", hashed_password=seed_hash(ADA_PASSWORD), username="fine", minutes=1)
    refused_users = [
        seed_user("fine.example.com", hashed_password=seed_hash("x"), minutes=2),  # no @
        seed_user("crlf@example.com\r\nBcc: all@example.com", hashed_password=seed_hash("x"), minutes=3),
        seed_user("zoë@example.com", hashed_password=seed_hash("x"), minutes=4),  # a non-ASCII local part
        seed_user("long@example.com", hashed_password=seed_hash("x"), username="u" * 65, minutes=5),
        seed_user("blank@example.com", hashed_password=seed_hash("x"), username="   ", minutes=6),
    ]
    db.users.insert_many([fine, *refused_users])
    kept = seed_prompt(fine["id"], "kept", minutes=10)
    refused_prompts = [
        seed_prompt(fine["id"], "x" * 2_000_000, minutes=11),  # 8 MB of Lambda response: a 502 for its owner
        seed_prompt(fine["id"], " \n ", minutes=12),
        seed_prompt(fine["id"], "question", response="r" * 100_001, minutes=13),
    ]
    db.prompts.insert_many([kept, *refused_prompts])
    refused_checks = [seed_status_check("c" * 201), seed_status_check("  ")]
    db.status_checks.insert_many([seed_status_check("web"), *refused_checks])

    report = migrate(db)

    assert {name: c.summary() for name, c in report.collections.items()} == {
        "users": "1 converted, 0 finished from an earlier run, 0 conflicts, 5 invalid "
        "(email not an address: 3, username too long: 1, username empty: 1)",
        "prompts": "1 converted, 0 finished from an earlier run, 0 conflicts, 3 invalid "
        "(content too long: 1, content blank: 1, response too long: 1)",
        "status_checks": "1 converted, 0 finished from an earlier run, 0 conflicts, 2 invalid "
        "(client_name too long: 1, client_name empty: 1)",
    }
    problems = ["email: not an address"] * 3 + ["username: too long", "username: empty"]
    assert report.collections["users"].invalid == [
        f"users {u['_id']}: {p}" for u, p in zip(refused_users, problems, strict=True)
    ]
    assert report.collections["prompts"].invalid == [
        f"prompts {p['_id']}: {problem}"
        for p, problem in zip(
            refused_prompts, ["content: too long", "content: blank", "response: too long"], strict=True
        )
    ]
    lines = list(report.lines())
    assert (
        "invalid: 10 (email not an address: 3, username too long: 1, username empty: 1, content too long: 1, "
        "content blank: 1, response too long: 1, client_name too long: 1, client_name empty: 1)"
    ) in lines
    text = "\n".join(lines)
    assert all(u["email"] not in text for u in refused_users) and "xxxxxxxx" not in text and "rrrr" not in text
    for collection, docs in (
        (db.users, refused_users),
        (db.prompts, refused_prompts),
        (db.status_checks, refused_checks),
    ):
        assert [collection.find_one({"_id": d["_id"]}) for d in docs] == docs  # exactly as they were
    assert report.unfinished() and report.left == 10

    login = invoke("login", body={"email": "fine@example.com", "password": ADA_PASSWORD})
    context = authorize(login.body["access_token"])["context"]
    page = invoke("list_prompts", user_id=context["user_id"], sid=context["sid"])
    assert (page.status, [p["id"] for p in page.body["items"]]) == (200, [kept["id"]])
    assert len(page.raw_body or "") < 1_000

    before = _snapshot()
    again = migrate(db)
    assert _snapshot() == before  # nothing lost, nothing changed: the same documents reported again
    assert [c.invalid for c in again.collections.values()] == [c.invalid for c in report.collections.values()]


def test_what_the_api_would_store_is_what_the_migration_stores() -> None:
    db = get_database()
    user = seed_user("  Ada@Example.COM ", hashed_password=seed_hash("a"), username=" ada ")
    check = seed_status_check("  web  ")
    db.users.insert_one(user)
    db.status_checks.insert_one(check)

    migrate(db)

    stored = db.users.find_one({"_id": user["id"]})
    assert (stored["email"], stored["username"]) == ("ada@example.com", "ada")  # as registration stores them
    assert db.status_checks.find_one({"_id": check["id"]})["client_name"] == "web"


def test_a_prompt_whose_user_id_is_a_list_counts_among_those_of_no_user() -> None:
    db = get_database()
    now = datetime.now(UTC)
    db.prompts.insert_one({"_id": "listed", "user_id": ["a", "b"], "content": "x", "created_at": now})

    report = migrate(db)

    assert report.orphan_prompts == 1
    assert db.prompts.count_documents({"_id": "listed"}) == 1


def test_seed_times_as_iso_strings_or_missing_are_converted() -> None:
    db = get_database()
    as_string = {**seed_status_check("iso"), "timestamp": "2025-03-01T12:00:00.123456"}
    missing = seed_status_check("none")
    del missing["timestamp"]
    prompt = seed_prompt("u", "no updated_at")
    del prompt["updated_at"]
    db.status_checks.insert_many([as_string, missing])
    db.prompts.insert_one(prompt)

    migrate(db)

    assert db.status_checks.find_one({"_id": as_string["id"]})["timestamp"] == datetime(
        2025, 3, 1, 12, 0, 0, 123000, tzinfo=UTC
    )
    made = db.status_checks.find_one({"_id": missing["id"]})["timestamp"]
    assert abs(made - missing["_id"].generation_time) < timedelta(seconds=1)
    assert db.prompts.find_one({"_id": prompt["id"]})["updated_at"] == prompt["created_at"]


def test_main_reports_counts_and_exits_3_while_documents_are_left(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = get_database()
    user = seed_user("fine@example.com", hashed_password=seed_hash("f"))
    broken = {**seed_prompt(user["id"], "p"), "user_id": None}
    too_long = seed_prompt(user["id"], "p" * 100_001)
    db.users.insert_one(user)
    db.prompts.insert_many([broken, too_long])
    client = db.client
    monkeypatch.setattr(pymongo, "MongoClient", lambda *args, **kwargs: client)
    monkeypatch.setattr(client, "close", lambda: None)
    monkeypatch.setenv("MONGODB_URI", "mongodb://seed.example:27017")
    config.clear_caches()  # a new process: the settings are read again

    status = migrate_seed.main()

    out = capsys.readouterr().out
    assert status == 3
    assert "users: 1 converted, 0 finished from an earlier run, 0 conflicts, 0 invalid" in out
    assert f"    invalid: prompts {broken['_id']}: user_id: NoneType" in out
    assert f"    invalid: prompts {too_long['_id']}: content: too long" in out
    assert "  invalid: 2 (user_id NoneType: 1, content too long: 1)\n" in out
    assert "2 seed documents were left as they were (above): fix them, then run it again" in out


def test_main_without_a_uri_says_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert migrate_seed.main() == 2
    assert "set MONGODB_URI" in capsys.readouterr().err
