"""shared.db's client hook: a configured URI, an installed client, or a clear 503."""

from __future__ import annotations

import mongomock
import pytest
from pymongo import MongoClient

from shared import db
from shared.errors import ServiceUnavailable
from tests.support import invoke


@pytest.fixture
def nothing_installed() -> None:
    """No MONGODB_URI (the autouse fixture clears it) and no installed client."""
    db.reset()


@pytest.mark.usefixtures("nothing_installed")
def test_without_uri_or_installed_client_the_database_is_unavailable_and_says_what_to_set() -> None:
    with pytest.raises(ServiceUnavailable) as unavailable:
        db.get_client()

    assert unavailable.value.detail == "Database not configured: set MONGODB_URI"
    assert not db.is_available()


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
    assert "email_unique" in client["emergent_db"].users.index_information()


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
