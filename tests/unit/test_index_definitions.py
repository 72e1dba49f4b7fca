"""shared.data.indexes: the one list of indexes, and ``make indexes`` (``python -m shared.data.indexes``)."""

from __future__ import annotations

from typing import Any

import mongomock
import pymongo
import pytest

from shared.data.indexes import INDEXES, ensure_indexes, main


def test_ensure_indexes_twice_changes_nothing_the_second_time() -> None:
    database = mongomock.MongoClient(tz_aware=True).db

    first = ensure_indexes(database)
    before = {name: database[name].index_information() for name in INDEXES}
    second = ensure_indexes(database)

    assert first == second
    assert {name: database[name].index_information() for name in INDEXES} == before
    assert len(first) == sum(len(indexes) for indexes in INDEXES.values()) == 12


def test_make_indexes_without_mongodb_uri_says_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main() == 2
    assert capsys.readouterr().err == "make indexes: set MONGODB_URI to the database to create the indexes on\n"


def test_make_indexes_creates_them_in_mongodb_db_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = mongomock.MongoClient(tz_aware=True)
    opened: list[tuple[str, dict[str, Any]]] = []

    def connect(uri: str, **options: Any) -> mongomock.MongoClient:
        opened.append((uri, options))
        return server

    monkeypatch.setattr(pymongo, "MongoClient", connect)
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example.com/")
    monkeypatch.setenv("MONGODB_DB_NAME", "staging")

    assert main() == 0

    assert [uri for uri, _ in opened] == ["mongodb://db.example.com/"]
    assert server.staging.users.index_information()["email_unique"]["unique"] is True
    assert capsys.readouterr().out.startswith("staging: users.email_unique, prompts.user_newest_first, ")
