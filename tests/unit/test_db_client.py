"""shared.data.client's hook: a configured URI, an installed client, or a clear 503."""

from __future__ import annotations

import time

import mongomock
import pytest
from pymongo import MongoClient

from shared.data import client as db
from shared.data.ping import is_available
from shared.errors import ServiceUnavailable
from tests.support import PASSWORD, free_port, invoke


@pytest.fixture
def nothing_installed() -> None:
    """No MONGODB_URI (the autouse fixture clears it) and no installed client."""
    db.reset()


@pytest.mark.usefixtures("nothing_installed")
def test_without_uri_or_installed_client_the_database_is_unavailable_and_says_what_to_set() -> None:
    with pytest.raises(ServiceUnavailable) as unavailable:
        db.get_client()

    assert unavailable.value.detail == "Database not configured: set MONGODB_URI"
    assert not is_available()


@pytest.mark.usefixtures("nothing_installed")
def test_without_a_database_handlers_answer_503_detail() -> None:
    health = invoke("health")
    write = invoke("create_status_check", body={"client_name": "web"})

    assert health.status == 503
    assert (health.body["status"], health.body["database"]) == ("degraded", "unavailable")
    assert write.status == 503
    assert write.body == {"detail": "Database not configured: set MONGODB_URI"}


def test_installed_client_is_used_where_no_uri_is_configured() -> None:
    client = mongomock.MongoClient(tz_aware=True)

    db.use_client(client)

    assert db.get_client() is client
    assert db.get_database().name == "emergent_db"


def test_configured_uri_wins_over_the_installed_client(monkeypatch: pytest.MonkeyPatch) -> None:
    db.use_client(mongomock.MongoClient(tz_aware=True))
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:9/?directConnection=true")

    client = db.get_client()

    assert isinstance(client, MongoClient)
    assert list(client.topology_description.server_descriptions()) == [("127.0.0.1", 9)]


def test_reset_forgets_the_installed_client() -> None:
    db.use_client(mongomock.MongoClient(tz_aware=True))
    db.get_client()

    db.reset()

    with pytest.raises(ServiceUnavailable):
        db.get_client()


def test_first_requests_of_a_new_container_run_no_index_command() -> None:
    """Index round trips per new container: 0. The deploy creates the indexes (shared.data.indexes)."""
    index_commands: list[str] = []

    def refuse(self: mongomock.Collection, *args: object, **kwargs: object) -> None:
        index_commands.append(self.name)
        raise AssertionError(f"index command on {self.name} during a request")

    with pytest.MonkeyPatch.context() as patch:  # undone before the next container's store is made
        for name in ("create_index", "create_indexes", "ensure_index"):
            patch.setattr(mongomock.Collection, name, refuse, raising=False)
        register = invoke("register", body={"email": "ada@example.com", "username": "ada", "password": PASSWORD})
        duplicate = invoke("register", body={"email": "ADA@example.com", "username": "x", "password": PASSWORD})
        status = invoke("create_status_check", body={"client_name": "web"})
        health = invoke("health")

    assert [register.status, duplicate.status, status.status, health.status] == [201, 409, 201, 200]
    assert index_commands == []


def test_getting_the_database_does_no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real pymongo at a closed port: any command would fail after the server-selection timeout."""
    monkeypatch.setenv("MONGODB_URI", f"mongodb://127.0.0.1:{free_port()}/?directConnection=true")
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "2000")
    started = time.monotonic()

    database = db.get_database()

    assert time.monotonic() - started < 1
    assert database.name == "emergent_db"


def test_lambda_client_follows_mongodbs_lambda_guidance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", f"mongodb://127.0.0.1:{free_port()}/?directConnection=true")

    options = db.get_client().options

    assert options.pool_options.max_idle_time_seconds == 60
    assert options.pool_options.max_pool_size == 2
    assert options.pool_options.min_pool_size == 0
    assert (options.retry_reads, options.retry_writes) == (True, True)


def test_lambda_client_waits_out_a_primary_election_and_still_answers_within_the_function_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MONGODB_URI", f"mongodb://127.0.0.1:{free_port()}/?directConnection=true")

    options = db.get_client().options

    assert options.server_selection_timeout == 15  # an election: up to about 12 s
    assert options.pool_options.connect_timeout == 5
    assert options.pool_options.socket_timeout == 5
    # A stalled operation, then the retry's wait for the new primary, then the rest of the request: less
    # than API Gateway's 29 s, so a function Timeout between the two answers a 503 rather than a 504.
    assert options.pool_options.socket_timeout + options.server_selection_timeout + 1 < 29


def test_a_shorter_mongodb_timeout_shortens_the_connect_timeout_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", f"mongodb://127.0.0.1:{free_port()}/?directConnection=true")
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "1500")

    options = db.get_client().options

    assert (options.server_selection_timeout, options.pool_options.connect_timeout) == (1.5, 1.5)
