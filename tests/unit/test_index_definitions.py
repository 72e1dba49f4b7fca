"""shared.data.indexes: the one list of indexes, and ``make indexes`` (``python -m shared.data.indexes``)."""

from __future__ import annotations

from typing import Any

import mongomock
import pymongo
import pytest
from pymongo.errors import OperationFailure

from shared.data import indexes
from shared.data.indexes import (
    CREATED,
    INDEXES,
    PRESENT,
    REPLACED,
    REUSED,
    EnsuredIndex,
    IndexConflict,
    ensure_indexes,
    main,
)


def test_ensure_indexes_twice_changes_nothing_the_second_time() -> None:
    database = mongomock.MongoClient(tz_aware=True).db

    first = ensure_indexes(database)
    before = {name: database[name].index_information() for name in INDEXES}
    second = ensure_indexes(database)

    assert [(e.outcome, str(e)) for e in first] == [(CREATED, f"{c}.{i.name}") for c, ix in INDEXES.items() for i in ix]
    assert [e.outcome for e in second] == [PRESENT] * len(first)
    assert {name: database[name].index_information() for name in INDEXES} == before
    assert len(first) == sum(len(indexes) for indexes in INDEXES.values()) == 14


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
    assert capsys.readouterr().out.startswith(
        "staging: users.email_unique, users.deleting, prompts.user_newest_first, "
    )


def _database() -> Any:
    return mongomock.MongoClient(tz_aware=True).db


def test_an_equivalent_index_under_another_name_is_reused_and_ours_not_created() -> None:
    database = _database()
    database.users.create_index("email", unique=True)  # email_1, as by hand or by the seed's app

    ensured = ensure_indexes(database)
    again = ensure_indexes(database)

    users = [e for e in ensured if (e.collection, e.name) == ("users", "email_unique")]
    assert users == [EnsuredIndex("users", "email_unique", REUSED, "email_1")]
    assert set(database.users.index_information()) == {"_id_", "email_1", "deleting"}
    assert [str(e) for e in again] == [str(e) for e in ensured]
    assert str(users[0]) == "users.email_unique (as email_1)"
    assert {e.outcome for e in ensured if e not in users} == {CREATED}
    assert {e.outcome for e in again if e.name != "email_unique"} == {PRESENT}


@pytest.mark.parametrize(
    ("collection", "older", "name"),
    [
        ("sessions", {"keys": "expires_at", "expireAfterSeconds": 3600}, "expires"),  # other options
        ("prompts", {"keys": [("user_id", 1), ("created_at", -1)]}, "user_newest_first"),  # other keys
        ("users", {"keys": "email"}, "email_unique"),  # not unique
    ],
    ids=["options", "keys", "unique"],
)
def test_our_index_with_another_definition_is_replaced_by_ours(
    collection: str, older: dict[str, Any], name: str
) -> None:
    database = _database()
    keys = older.pop("keys")
    database[collection].create_index(keys, name=name, **older)  # a failed deploy's, or the one it rolled back from

    ensured = {(e.collection, e.name): e for e in ensure_indexes(database)}

    assert ensured[(collection, name)].outcome == REPLACED
    assert str(ensured[(collection, name)]) == f"{collection}.{name} (replaced)"
    info = database[collection].index_information()[name]
    (index,) = [i for i in INDEXES[collection] if i.name == name]
    assert info["key"] == list(index.keys)
    assert {k: v for k, v in info.items() if k not in ("key", "v")} == index.options


def test_ours_is_created_beside_an_index_of_our_keys_the_server_tells_apart() -> None:
    database = _database()
    database.users.create_index("email")  # email_1, not unique: since MongoDB 5.0 both may exist

    ensured = ensure_indexes(database)

    assert EnsuredIndex("users", "email_unique", CREATED, "email_unique") in ensured
    assert set(database.users.index_information()) == {"_id_", "email_1", "email_unique", "deleting"}


def test_an_index_of_our_keys_the_server_does_not_tell_apart_stops_with_what_to_run() -> None:
    """The server refuses ours (code 85) beside a TTL index of our keys with another expiry."""
    real = _database()
    real.sessions.create_index("expires_at", expireAfterSeconds=3600)  # expires_at_1, by hand
    database = _Database(
        real,
        "sessions",
        lambda c: _RacingCollection(c, concurrent=lambda c: None, code=85, codename="IndexOptionsConflict"),
        only_index="expires",
    )

    with pytest.raises(IndexConflict) as conflict:
        ensure_indexes(database)  # type: ignore[arg-type]

    assert str(conflict.value) == (
        "sessions.expires_at_1 has the keys of our index expires but other options (ours: "
        "{'expireAfterSeconds': 0}): give it ours or drop it (db.sessions.dropIndex(\"expires_at_1\")), then "
        "create the indexes again (make indexes, or deploy)"
    )
    assert set(real.sessions.index_information()) == {
        "_id_",
        "refresh_hash_unique",
        "spent_hashes",
        "user",
        "expires_at_1",
    }


class _RacingCollection:
    """A collection whose create_index (of ``only_index``, or any) is refused as a server refuses it, after
    ``concurrent`` did what another run did first."""

    def __init__(self, real: Any, *, concurrent: Any, code: int, codename: str, only_index: str | None = None) -> None:
        self._real, self._concurrent, self._code, self._codename = real, concurrent, code, codename
        self._only = only_index

    def create_index(self, *args: Any, **kwargs: Any) -> str:
        if self._only is not None and kwargs.get("name") != self._only:
            return str(self._real.create_index(*args, **kwargs))
        self._concurrent(self._real)
        raise OperationFailure(
            "index conflict", code=self._code, details={"codeName": self._codename, "errmsg": "index conflict"}
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _Database:
    def __init__(self, real: Any, collection: str, wrap: Any, *, only_index: str | None = None) -> None:
        self._real, self._collection, self._wrap, self._only = real, collection, wrap, only_index

    def __getitem__(self, name: str) -> Any:
        if name != self._collection:
            return self._real[name]
        wrapped = self._wrap(self._real[name])
        wrapped._only = self._only
        return wrapped


@pytest.mark.parametrize(
    ("concurrent", "outcome", "found_as"),
    [
        (lambda c: c.create_index("email", name="email_unique", unique=True), PRESENT, "email_unique"),
        (lambda c: c.create_index("email", unique=True), REUSED, "email_1"),
    ],
    ids=["ours", "equivalent"],
)
def test_index_options_conflict_from_a_concurrent_run_reads_again_and_settles(
    concurrent: Any, outcome: str, found_as: str
) -> None:
    real = _database()
    database = _Database(
        real,
        "users",
        lambda c: _RacingCollection(c, concurrent=concurrent, code=85, codename="IndexOptionsConflict"),
        only_index="email_unique",
    )

    ensured = ensure_indexes(database)  # type: ignore[arg-type]

    assert EnsuredIndex("users", "email_unique", outcome, found_as) in ensured


def test_index_key_specs_conflict_that_reading_again_does_not_explain_stops_with_the_servers_reason() -> None:
    real = _database()
    database = _Database(
        real,
        "users",
        lambda c: _RacingCollection(
            c,
            concurrent=lambda c: c.create_index("username", name="email_unique"),
            code=86,
            codename="IndexKeySpecsConflict",
        ),
    )

    with pytest.raises(IndexConflict) as conflict:
        ensure_indexes(database)  # type: ignore[arg-type]

    assert str(conflict.value) == (
        "MongoDB refused users.email_unique (IndexKeySpecsConflict: index conflict); "
        "compare db.users.getIndexes() with shared/data/indexes.py"
    )
    assert isinstance(conflict.value.__cause__, OperationFailure)


def test_other_refusals_of_create_index_are_raised_as_they_are() -> None:
    real = _database()
    database = _Database(
        real, "users", lambda c: _RacingCollection(c, concurrent=lambda c: None, code=11000, codename="DuplicateKey")
    )

    with pytest.raises(OperationFailure) as refused:
        ensure_indexes(database)  # type: ignore[arg-type]

    assert refused.value.code == 11000


def test_make_indexes_says_what_stands_in_the_way(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ensure = indexes.ensure_indexes

    def conflict(database: Any) -> list[EnsuredIndex]:
        if database.name == "staging":
            raise IndexConflict("sessions.expires_at_1 has the keys of our index expires but other options (...)")
        return ensure(database)  # the tests' own store

    monkeypatch.setattr(pymongo, "MongoClient", lambda uri, **options: mongomock.MongoClient())
    monkeypatch.setattr(indexes, "ensure_indexes", conflict)
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example.com/")
    monkeypatch.setenv("MONGODB_DB_NAME", "staging")

    assert main() == 1

    assert capsys.readouterr().err == (
        "make indexes: sessions.expires_at_1 has the keys of our index expires but other options (...)\n"
    )
