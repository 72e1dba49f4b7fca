"""The same flows against a real MongoDB, when MONGODB_URI points at one.

In-process through the handlers, and over HTTP through ``python -m local_api`` started with
MONGODB_URI: the journey, pagination, the unique email index, concurrent writes (from two servers,
as from two Lambda containers). Each test has a database of its own (named after MONGODB_DB_NAME
when set) and drops it at the end.

The autouse environment fixture clears MONGODB_URI and MONGODB_DB_NAME for every test, so both are
read once here, at collection.
"""

from __future__ import annotations

import itertools
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest
import requests
from bson import ObjectId
from pymongo.database import Database
from pymongo.errors import OperationFailure

from shared.data.client import get_database
from shared.data.indexes import (
    CREATED,
    INDEX_KEY_SPECS_CONFLICT,
    INDEX_OPTIONS_CONFLICT,
    INDEXES,
    PRESENT,
    REPLACED,
    REUSED,
    IndexConflict,
    ensure_indexes,
)
from tests.integration.conftest import StartApi
from tests.integration.helpers import JWT_SECRET, LocalApi, bearer, login, new_user, register, unique_email
from tests.support import PASSWORD, authorize, create_prompt, invoke, run_sweeper
from tests.support import login as login_in_process
from tests.support import login_pair as login_in_process_pair
from tests.support import register as register_in_process

REAL_MONGODB_URI = os.environ.get("MONGODB_URI", "")
DATABASE_PREFIX = os.environ.get("MONGODB_DB_NAME", "prompt_api_test")

pytestmark = [
    pytest.mark.mongodb,
    pytest.mark.skipif(not REAL_MONGODB_URI, reason="MONGODB_URI is not set: no real MongoDB to test against"),
]

StartOnMongoDB = Callable[[], LocalApi]


@pytest.fixture(autouse=True)
def real_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[Database[dict[str, Any]]]:
    """A database of this test's own on the real server (also for in-process handlers), with the indexes a
    deploy (or ``make indexes``) creates; dropped at the end."""
    name = f"{DATABASE_PREFIX}_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("MONGODB_URI", REAL_MONGODB_URI)
    monkeypatch.setenv("MONGODB_DB_NAME", name)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(REAL_MONGODB_URI, serverSelectionTimeoutMS=5000)
    try:
        ensure_indexes(client[name])
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()


@pytest.fixture
def start_on_mongodb(real_database: Database[dict[str, Any]], start_api: StartApi, tmp_path: Path) -> StartOnMongoDB:
    """Start a local API on the test's database (one more server, one more Lambda container).

    Each server gets a data directory of its own: with MONGODB_URI set nothing is stored there, but a
    local API still locks its data directory, so two servers on one directory would not both start.
    """
    env = {"MONGODB_URI": REAL_MONGODB_URI, "MONGODB_DB_NAME": real_database.name, "JWT_SECRET": JWT_SECRET}
    started = itertools.count()

    def start() -> LocalApi:
        server = start_api("--data-dir", str(tmp_path / f"data-{next(started)}"), env=env)
        assert "Store: MongoDB at MONGODB_URI" in server.output()
        return server

    return start


def pages(api: LocalApi, path: str, *, limit: int, headers: dict[str, str] | None = None) -> list[list[dict[str, Any]]]:
    """Every page of a listing, following next_cursor to the end."""
    found: list[list[dict[str, Any]]] = []
    params = {"limit": str(limit)}
    while True:
        response = api.request("GET", path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        found.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return found
        params = {"limit": str(limit), "cursor": cursor}


# In process, through the handlers -----------------------------------------------------------


def test_health_reports_ok_on_real_mongodb() -> None:
    result = invoke("health")

    assert (result.status, result.body["database"]) == (200, "ok")


def test_duplicate_email_in_any_case_is_409_on_real_unique_index() -> None:
    register_in_process("Ada@Example.com")

    result = invoke("register", body={"email": "ADA@example.COM", "username": "x", "password": PASSWORD})

    assert result.status == 409


def test_prompt_journey_on_real_mongodb() -> None:
    user = register_in_process()
    login_in_process()
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


def test_the_sweep_on_a_real_server_removes_only_this_apis_orphans() -> None:
    """The sweep's queries as the server evaluates them ($type, a list matched by its elements, $in with
    $not): what only this API wrote and no user names goes; the seed's, the migration's and foreign
    shapes stay."""
    db = get_database()
    db.users.insert_one({"_id": ObjectId(), "id": "seed-user", "email": "seed@example.com"})
    kept = [
        {"_id": ObjectId(), "user_id": "seed-user", "content": "the seed's own"},
        {"_id": "api-of-seed-user", "user_id": "seed-user", "content": "names a seed user"},
        {"_id": "converted", "user_id": "gone", "seed_object_id": ObjectId(), "content": "converted"},
        {"_id": "listed", "user_id": ["gone", "someone"], "content": "no one's alone"},
        {"_id": "numbered", "user_id": 7, "content": "not a string"},
    ]
    db.prompts.insert_many([*kept, {"_id": "orphan", "user_id": "gone", "content": "this API's orphan"}])

    result = run_sweeper()

    assert result["orphans_removed"] == 1
    assert sorted(str(p["_id"]) for p in db.prompts.find()) == sorted(str(p["_id"]) for p in kept)


def test_deleting_an_account_on_a_real_server_leaves_a_user_id_list_naming_it() -> None:
    user = register_in_process()
    pair = login_in_process_pair()
    create_prompt(user["id"], "ada's")
    get_database().prompts.insert_one({"_id": "listed", "user_id": [user["id"], "someone"], "content": "x"})
    context = authorize(pair["access_token"], route=("DELETE", "/api/me"))["context"]

    deleted = invoke("delete_me", body={"password": PASSWORD}, user_id=context["user_id"], sid=context["sid"])

    assert deleted.status == 204
    assert [p["_id"] for p in get_database().prompts.find()] == ["listed"]


def test_expired_sessions_and_login_windows_the_ttl_monitor_has_not_removed_are_treated_as_gone(
    real_database: Database[dict[str, Any]],
) -> None:
    """A server keeps expired documents until its TTL monitor passes (every 60 s): the code's own
    expiry filters, evaluated by the server, must refuse them."""
    register_in_process()
    pair = login_in_process_pair()
    for _ in range(5):
        invoke("login", body={"email": "ada@example.com", "password": "wrong password"})
    past = datetime.now(UTC) - timedelta(seconds=1)
    real_database.sessions.update_many({}, {"$set": {"expires_at": past}})
    real_database.login_attempts.update_many({}, {"$set": {"expires_at": past}})

    refreshed = invoke("refresh_token", body={"refresh_token": pair["refresh_token"]})
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(pair["access_token"])
    wrong_again = invoke("login", body={"email": "ada@example.com", "password": "wrong password"})

    assert (refreshed.status, refreshed.body) == (401, {"detail": "Invalid refresh token"})
    assert wrong_again.status == 401  # a new window, not the 429 of the expired one
    window = real_database.login_attempts.find_one({})
    assert window is not None
    assert window["count"] == 1


# Over HTTP, through the local API on MongoDB ------------------------------------------------


def test_http_journey_on_real_mongodb(
    start_on_mongodb: StartOnMongoDB, real_database: Database[dict[str, Any]]
) -> None:
    api = start_on_mongodb()
    email = unique_email()

    health = api.request("GET", "/api/health")
    registered = register(api, email.replace("user", "User"), username="grace")
    duplicate = register(api, email.upper())
    token = login(api, email)
    me = api.request("GET", "/api/me", headers=bearer(token))
    auth = bearer(token)
    created = api.request("POST", "/api/prompts", json={"content": "Summarise this"}, headers=auth)
    prompt_id = created.json()["id"]
    fetched = api.request("GET", f"/api/prompts/{prompt_id}", headers=auth)
    updated = api.request("PATCH", f"/api/prompts/{prompt_id}", json={"response": "A summary"}, headers=auth)
    _, other_token = new_user(api)
    other_calls = [
        api.request("GET", f"/api/prompts/{prompt_id}", headers=bearer(other_token)),
        api.request("PATCH", f"/api/prompts/{prompt_id}", json={"content": "x"}, headers=bearer(other_token)),
        api.request("DELETE", f"/api/prompts/{prompt_id}", headers=bearer(other_token)),
    ]
    stored_after_other = real_database.prompts.find_one({"_id": prompt_id})
    deleted = api.request("DELETE", f"/api/prompts/{prompt_id}", headers=auth)
    gone = api.request("GET", f"/api/prompts/{prompt_id}", headers=auth)
    status = api.request("POST", "/api/status", json={"client_name": "web"})
    statuses = api.request("GET", "/api/status")

    assert (health.status_code, health.json()["status"], health.json()["database"]) == (200, "ok", "ok")
    assert registered.status_code == 201, registered.text
    user = registered.json()
    assert (user["email"], user["username"], user["is_active"]) == (email, "grace", True)
    assert (duplicate.status_code, duplicate.json()) == (409, {"detail": "Email already registered"})
    assert real_database.users.count_documents({"email": email}) == 1
    assert me.status_code == 200
    assert me.json() == user
    assert created.status_code == 201
    prompt = created.json()
    assert (prompt["user_id"], prompt["content"], prompt["response"]) == (user["id"], "Summarise this", None)
    assert fetched.status_code == 200
    assert fetched.json() == prompt
    assert updated.status_code == 200
    assert (updated.json()["content"], updated.json()["response"]) == ("Summarise this", "A summary")
    assert datetime.fromisoformat(updated.json()["updated_at"]) > datetime.fromisoformat(prompt["updated_at"])
    assert [(r.status_code, r.json()) for r in other_calls] == [(404, {"detail": "Prompt not found"})] * 3
    assert stored_after_other is not None
    assert (stored_after_other["content"], stored_after_other["response"]) == ("Summarise this", "A summary")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (gone.status_code, gone.json()) == (404, {"detail": "Prompt not found"})
    assert real_database.prompts.count_documents({}) == 0
    assert status.status_code == 201
    assert statuses.status_code == 200
    assert statuses.json() == {"items": [status.json()], "next_cursor": None}


def test_email_has_a_unique_index_on_real_mongodb(
    start_on_mongodb: StartOnMongoDB, real_database: Database[dict[str, Any]]
) -> None:
    api = start_on_mongodb()
    assert register(api).status_code == 201

    indexes = real_database.users.index_information().values()

    assert any(index["key"] == [("email", 1)] and index.get("unique") for index in indexes)


def test_ensure_indexes_creates_every_index_once_and_again_changes_nothing(
    real_database: Database[dict[str, Any]],
) -> None:
    before = {name: real_database[name].index_information() for name in INDEXES}

    ensure_indexes(real_database)  # a second deploy

    after = {name: real_database[name].index_information() for name in INDEXES}
    assert after == before
    assert before["sessions"]["expires"]["expireAfterSeconds"] == 0
    assert before["prompts"]["user_newest_first"]["key"] == [("user_id", 1), ("created_at", -1), ("_id", -1)]
    assert {name: len(info) - 1 for name, info in before.items()} == {name: len(i) for name, i in INDEXES.items()}


@pytest.fixture
def bare_real_database(real_database: Database[dict[str, Any]]) -> Iterator[Database[dict[str, Any]]]:
    """A second database of the test's own on the real server, without any index yet; dropped at the end."""
    database = real_database.client[f"{real_database.name}_bare"]
    try:
        yield database
    finally:
        real_database.client.drop_database(database.name)


def test_real_mongodb_refuses_an_equivalent_index_under_another_name_and_another_one_under_ours(
    bare_real_database: Database[dict[str, Any]],
) -> None:
    """What ensure_indexes reads the indexes first to avoid: the server's codes 85 and 86."""
    users = bare_real_database.users
    users.create_index("email", unique=True)  # email_1
    users.create_index("username", name="by_name")

    with pytest.raises(OperationFailure) as equivalent:
        users.create_index("email", name="email_unique", unique=True)
    with pytest.raises(OperationFailure) as other_keys:
        users.create_index("email", name="by_name")

    assert equivalent.value.code == INDEX_OPTIONS_CONFLICT
    assert other_keys.value.code == INDEX_KEY_SPECS_CONFLICT


def test_ensure_indexes_on_real_mongodb_reuses_an_equivalent_index_and_replaces_a_changed_one(
    bare_real_database: Database[dict[str, Any]],
) -> None:
    bare_real_database.users.create_index("email", unique=True)  # by hand, or by the seed's app
    bare_real_database.sessions.create_index("expires_at", name="expires", expireAfterSeconds=3600)

    ensured = {(e.collection, e.name): e for e in ensure_indexes(bare_real_database)}
    again = {(e.collection, e.name): e.outcome for e in ensure_indexes(bare_real_database)}

    assert (ensured["users", "email_unique"].outcome, ensured["users", "email_unique"].found_as) == (REUSED, "email_1")
    assert ensured["sessions", "expires"].outcome == REPLACED
    assert set(bare_real_database.users.index_information()) == {"_id_", "email_1"}
    assert bare_real_database.sessions.index_information()["expires"]["expireAfterSeconds"] == 0
    assert again == {key: REUSED if key == ("users", "email_unique") else PRESENT for key in ensured}


def test_ensure_indexes_on_real_mongodb_adds_ours_beside_a_non_unique_index_of_our_keys(
    bare_real_database: Database[dict[str, Any]],
) -> None:
    bare_real_database.users.create_index("email")  # email_1, not unique: a server since 5.0 allows both

    ensured = {(e.collection, e.name): e.outcome for e in ensure_indexes(bare_real_database)}

    assert ensured["users", "email_unique"] == CREATED
    assert bare_real_database.users.index_information()["email_unique"]["unique"] is True


def test_ensure_indexes_on_real_mongodb_stops_at_an_index_of_our_keys_with_another_expiry(
    bare_real_database: Database[dict[str, Any]],
) -> None:
    """The server refuses ours (IndexOptionsConflict, 85): the message says which index and what to run."""
    bare_real_database.sessions.create_index("expires_at", expireAfterSeconds=3600)  # expires_at_1

    with pytest.raises(IndexConflict, match=r'db\.sessions\.dropIndex\("expires_at_1"\)') as conflict:
        ensure_indexes(bare_real_database)

    assert isinstance(conflict.value.__cause__, OperationFailure)
    assert conflict.value.__cause__.code == INDEX_OPTIONS_CONFLICT
    assert "expires" not in bare_real_database.sessions.index_information()


def test_pages_of_prompts_follow_next_cursor_newest_first_without_gaps_or_duplicates(
    start_on_mongodb: StartOnMongoDB,
) -> None:
    api = start_on_mongodb()
    _, token = new_user(api)
    _, other_token = new_user(api)
    created: list[str] = []
    for i in range(7):
        response = api.request("POST", "/api/prompts", json={"content": f"prompt {i}"}, headers=bearer(token))
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
        api.request("POST", "/api/prompts", json={"content": f"not mine {i}"}, headers=bearer(other_token))

    found = pages(api, "/api/prompts", limit=3, headers=bearer(token))

    assert [len(page) for page in found] == [3, 3, 1]
    assert [item["id"] for page in found for item in page] == created[::-1]


def test_pages_of_status_checks_follow_next_cursor_newest_first(start_on_mongodb: StartOnMongoDB) -> None:
    api = start_on_mongodb()
    created = [api.request("POST", "/api/status", json={"client_name": f"client {i}"}).json()["id"] for i in range(5)]

    found = pages(api, "/api/status", limit=2)

    assert [len(page) for page in found] == [2, 2, 1]
    assert [item["id"] for page in found for item in page] == created[::-1]


def test_concurrent_registrations_of_one_email_on_two_servers_give_one_201(
    start_on_mongodb: StartOnMongoDB, real_database: Database[dict[str, Any]]
) -> None:
    servers = [start_on_mongodb(), start_on_mongodb()]
    for server in servers:
        assert register(server).status_code == 201
    email = unique_email()
    attempts = 8
    barrier = threading.Barrier(attempts)

    def attempt(index: int) -> int:
        body = {"email": email.upper() if index % 2 else email, "username": f"twin{index}", "password": PASSWORD}
        with requests.Session() as session:
            barrier.wait()
            return session.post(servers[index % 2].url("/api/register"), json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        statuses = sorted(pool.map(attempt, range(attempts)))

    assert statuses == [201] + [409] * (attempts - 1)
    assert real_database.users.count_documents({"email": email}) == 1


def test_concurrent_prompt_creation_on_two_servers_lists_every_prompt_once(start_on_mongodb: StartOnMongoDB) -> None:
    servers = [start_on_mongodb(), start_on_mongodb()]
    _, token = new_user(servers[0])
    attempts = 10
    barrier = threading.Barrier(attempts)

    def create(index: int) -> requests.Response:
        with requests.Session() as session:
            barrier.wait()
            url = servers[index % 2].url("/api/prompts")
            return session.post(url, json={"content": f"prompt {index}"}, headers=bearer(token), timeout=30)

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        responses = list(pool.map(create, range(attempts)))
    listed = pages(servers[1], "/api/prompts", limit=4, headers=bearer(token))

    assert [response.status_code for response in responses] == [201] * attempts
    listed_ids = [item["id"] for page in listed for item in page]
    assert sorted(listed_ids) == sorted(response.json()["id"] for response in responses)
    assert len(set(listed_ids)) == attempts
