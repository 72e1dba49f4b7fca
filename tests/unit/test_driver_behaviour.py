"""What pymongo does on the wire when the network or the primary fails, and what the code makes of it.

mongomock runs queries, not the driver: it cannot drop a connection, change the primary or answer
with a server's error. Here the real client of ``shared.data.client.get_client()`` (MONGODB_URI at
a mockupdb server: MongoDB's wire protocol, answered by the test) talks to a one-member replica set,
the shape of an Atlas cluster, so that retryable writes are on. Each test plays the server's part,
request by request: answer, fail with a server error, or close the connection (``hangup``) after the
request arrived, which is what a connection reset while the server works looks like to the driver, or
never answer: a server that takes connections and hangs, which no closed port can show.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mockupdb import MockupDB, OpMsg, go, going
from pymongo.errors import AutoReconnect

from shared import __version__
from shared.accounts import admin
from shared.accounts.sessions import SessionRepository
from shared.data import client as db
from shared.data import indexes, migrate_seed
from shared.data.indexes import INDEXES, REUSED, ensure_indexes
from shared.errors import ServiceUnavailable
from shared.prompts.prompts import PromptRepository
from shared.status.status_checks import StatusCheckRepository
from tests.support import invoke

REPLICA_SET = "rs0"
NOT_WRITABLE_PRIMARY = 10107


@pytest.fixture(scope="module")
def replica_set() -> Iterator[MockupDB]:
    """A one-member replica set (its primary) as MongoDB 7 describes itself; one per module (a stop
    takes a second), each test with a client of its own."""
    stub = MockupDB(verbose=False, request_timeout=5)
    stub.run()
    primary = {
        "ismaster": True,
        "isWritablePrimary": True,
        "setName": REPLICA_SET,
        "hosts": [stub.address_string],
        "me": stub.address_string,
        "minWireVersion": 0,
        "maxWireVersion": 21,  # MongoDB 7.0
        "logicalSessionTimeoutMinutes": 30,  # sessions, hence retryable writes
        "maxBsonObjectSize": 16 * 1024 * 1024,
        "maxMessageSizeBytes": 48_000_000,
        "maxWriteBatchSize": 100_000,
    }
    for hello in ("ismaster", "hello"):  # pymongo's handshake, then its monitor's checks
        stub.autoresponds(hello, primary)
    stub.autoresponds(lambda request: request.command_name == "endSessions" and request.ok())  # client.close()
    yield stub
    stub.stop()


@pytest.fixture
def server(replica_set: MockupDB, monkeypatch: pytest.MonkeyPatch) -> Iterator[MockupDB]:
    """MONGODB_URI at the stub: the functions' own client (``get_client()``), fresh for the test."""
    monkeypatch.setenv("MONGODB_URI", f"mongodb://{replica_set.address_string}/?replicaSet={REPLICA_SET}")
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "3000")
    db.reset()
    yield replica_set
    db.reset()  # closes the client and its connections


def _not_writable_primary(*, retryable_label: bool) -> dict[str, Any]:
    """The error a former primary answers a write with; MongoDB 4.4+ labels it only on a retryable write."""
    reply: dict[str, Any] = {
        "ok": 0,
        "code": NOT_WRITABLE_PRIMARY,
        "codeName": "NotWritablePrimary",
        "errmsg": "not primary",
    }
    if retryable_label:
        reply["errorLabels"] = ["RetryableWriteError"]
    return reply


def _same_transaction(first: Any, retry: Any) -> bool:
    """Whether a retry is the server's "same write again" (one session id and transaction number)."""
    return bool(first["lsid"] == retry["lsid"] and first["txnNumber"] == retry["txnNumber"])


def _nothing_more(server: MockupDB) -> None:
    """The driver sends nothing more but its monitor's checks (waits half a second)."""
    with pytest.raises(AssertionError, match="got nothing"):
        server.receives(timeout=0.5)


def _status_check() -> Callable[[], Any]:
    return lambda: StatusCheckRepository().create("web")


# Retryable writes: pymongo sends the same write again, once ----------------------------------------


def test_insert_one_is_sent_again_after_the_connection_dropped_and_succeeds(server: MockupDB) -> None:
    with going(_status_check()) as created:
        first = server.receives(OpMsg("insert", "status_checks"))
        first.hangup()  # the server may have applied it: the retry's txnNumber lets it answer without a second insert
        retry = server.receives(OpMsg("insert", "status_checks"))
        retry.ok(n=1)

    assert created().client_name == "web"
    assert _same_transaction(first, retry)
    assert first["documents"] == retry["documents"]


def test_find_one_and_update_is_sent_again_after_the_connection_dropped_and_succeeds(server: MockupDB) -> None:
    stored = {"_id": "s-1", "user_id": "u-1", "refresh_hash": "h", "spent_hashes": ["old"]}

    with going(SessionRepository().rotate, "a refresh token", successor="its successor") as rotated:
        first = server.receives(OpMsg("findAndModify", "sessions"))
        first.hangup()
        retry = server.receives(OpMsg("findAndModify", "sessions"))
        retry.ok(value=stored, lastErrorObject={"n": 1, "updatedExisting": True})

    result = rotated()
    assert result is not None
    assert (result[0].session_id, result[0].user_id) == ("s-1", "u-1")
    assert _same_transaction(first, retry)


def test_not_writable_primary_on_insert_one_is_retried_on_the_primary_found_again(server: MockupDB) -> None:
    with going(_status_check()) as created:
        first = server.receives(OpMsg("insert", "status_checks"))
        first.replies(_not_writable_primary(retryable_label=True))  # a stepdown, then this member elected again
        retry = server.receives(OpMsg("insert", "status_checks"))
        retry.ok(n=1)

    assert created().client_name == "web"
    assert _same_transaction(first, retry)


def test_not_writable_primary_twice_is_a_503(server: MockupDB) -> None:
    created = go(_status_check())
    for _ in range(2):
        server.receives(OpMsg("insert", "status_checks")).replies(_not_writable_primary(retryable_label=True))

    with pytest.raises(ServiceUnavailable, match="Database unavailable"):
        created()
    _nothing_more(server)


# A connection reset mid-operation becomes a 503 -------------------------------------------------


def test_a_read_whose_connection_resets_twice_answers_503_through_the_handler(server: MockupDB) -> None:
    with going(invoke, "list_status_checks") as listed:
        for _ in range(2):  # the read, then pymongo's one retry of it
            server.receives(OpMsg("find", "status_checks")).hangup()

    result = listed()
    assert (result.status, result.body) == (503, {"detail": "Database unavailable"})


def test_a_write_whose_connection_resets_twice_answers_503_through_the_handler(server: MockupDB) -> None:
    with going(invoke, "create_status_check", body={"client_name": "web"}) as created:
        for _ in range(2):
            server.receives(OpMsg("insert", "status_checks")).hangup()

    result = created()
    assert (result.status, result.body) == (503, {"detail": "Database unavailable"})


def test_health_on_a_database_refusing_the_password_answers_503(
    server: MockupDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wrong credentials in the URI (a rotated password, a deleted database user): the database cannot be
    used, the same 503 as an unreachable one, never a 500."""
    monkeypatch.setenv("MONGODB_URI", f"mongodb://ada:wrong@{server.address_string}/?replicaSet={REPLICA_SET}")
    refused = {"ok": 0, "code": 18, "codeName": "AuthenticationFailed", "errmsg": "Authentication failed."}

    with going(invoke, "health") as checked:
        server.receives(OpMsg("saslStart")).replies(refused)

    result = checked()
    assert (result.status, result.body["database"]) == (503, "unavailable")
    assert result.body["detail"] == "Database unavailable"


def test_a_read_the_database_user_may_not_make_answers_503_through_the_handler(server: MockupDB) -> None:
    """A database user without the rights the function needs (code 13): the operator's to fix, a 503 to
    the client (with the code in the log), never a 500."""
    unauthorized = {"ok": 0, "code": 13, "codeName": "Unauthorized", "errmsg": "not authorized on emergent_db"}

    with going(invoke, "list_status_checks") as listed:
        server.receives(OpMsg("find", "status_checks")).replies(unauthorized)

    result = listed()
    assert (result.status, result.body) == (503, {"detail": "Database unavailable"})


# Multi-document writes: pymongo sends them once; retry_once sends them again -----------------------


def test_update_many_is_not_retried_by_the_driver(server: MockupDB) -> None:
    sessions = db.get_database().sessions

    updated = go(sessions.update_many, {"user_id": "u-1"}, {"$set": {"ended_at": None}})
    first = server.receives(OpMsg("update", "sessions"))
    first.hangup()

    with pytest.raises(AutoReconnect):
        updated()
    _nothing_more(server)
    assert "txnNumber" not in first  # not a retryable write: the server could not tell a second one apart


def test_ending_every_session_after_a_dropped_connection_is_sent_once_more_and_succeeds(server: MockupDB) -> None:
    with going(SessionRepository().end_all, "u-1", reason="password_change") as ended:
        first = server.receives(OpMsg("update", "sessions"))
        first.hangup()  # applied, say, and the answer lost
        retry = server.receives(OpMsg("update", "sessions"))
        retry.ok(n=0, nModified=0)  # the first run ended them all

    assert ended() == 0
    assert retry["updates"] == first["updates"]
    assert retry["updates"][0]["multi"] is True


def test_removing_every_prompt_after_not_writable_primary_is_sent_once_more_and_succeeds(server: MockupDB) -> None:
    with going(PromptRepository().delete_all, "u-1") as deleted:
        first = server.receives(OpMsg("delete", "prompts"))
        first.replies(_not_writable_primary(retryable_label=False))  # what a server answers a non-retryable write
        server.receives(OpMsg("delete", "prompts")).ok(n=3)

    assert deleted() == 3
    assert first["deletes"][0]["limit"] == 0  # delete_many


def test_removing_every_session_twice_failed_is_a_503(server: MockupDB) -> None:
    deleted = go(SessionRepository().delete_all, "u-1")
    for _ in range(2):
        server.receives(OpMsg("delete", "sessions")).hangup()

    with pytest.raises(ServiceUnavailable, match="Database unavailable"):
        deleted()
    _nothing_more(server)


# Index conflicts as a server reports them -------------------------------------------------------


def test_index_options_conflict_from_the_server_settles_on_the_equivalent_index(
    server: MockupDB, request: pytest.FixtureRequest
) -> None:
    """createIndexes refused with code 85 (a concurrent ``email_1``): read again, reuse it."""
    email_1 = {"v": 2, "key": {"email": 1}, "name": "email_1", "unique": True}
    listed = [
        [{"v": 2, "key": {"_id": 1}, "name": "_id_"}],
        [{"v": 2, "key": {"_id": 1}, "name": "_id_"}, email_1],
    ]
    database = db.get_database()
    others = [
        server.autoresponds(OpMsg(command, collection), *answer)
        for collection in INDEXES
        if collection != "users"  # the other collections: no index yet, every create accepted
        for command, answer in (
            ("listIndexes", ({"cursor": {"id": 0, "ns": "", "firstBatch": []}},)),
            ("createIndexes", ()),
        )
    ]
    request.addfinalizer(lambda: [server.cancel_responder(responder) for responder in others])

    with going(ensure_indexes, database) as ensured:
        server.receives(OpMsg("listIndexes", "users")).ok(cursor={"id": 0, "ns": "", "firstBatch": listed[0]})
        create = server.receives(OpMsg("createIndexes", "users"))
        create.replies(
            {
                "ok": 0,
                "code": 85,
                "codeName": "IndexOptionsConflict",
                "errmsg": "Index already exists with a different name: email_1",
            }
        )
        server.receives(OpMsg("listIndexes", "users")).ok(cursor={"id": 0, "ns": "", "firstBatch": listed[1]})
        # The users' other indexes, accepted (email_1 settled, the listing stays as it is now).
        rest = [
            server.autoresponds(
                OpMsg("listIndexes", "users"), {"cursor": {"id": 0, "ns": "", "firstBatch": listed[1]}}
            ),
            server.autoresponds(OpMsg("createIndexes", "users")),
        ]
        request.addfinalizer(lambda: [server.cancel_responder(responder) for responder in rest])

    first = ensured()[0]
    assert (first.collection, first.name, first.outcome, first.found_as) == ("users", "email_unique", REUSED, "email_1")
    assert create["indexes"] == [{"key": {"email": 1}, "name": "email_unique", "unique": True}]


# A server that answers the handshake, then nothing: health and the operator commands' first ping --------


def _timed(call: Callable[..., Any], *args: Any) -> Callable[[], tuple[Any, float]]:
    """``call(*args)`` in a thread, as mockupdb's ``go``; what it returned and the seconds it took."""

    def timed() -> tuple[Any, float]:
        started = time.monotonic()
        result = call(*args)
        return result, time.monotonic() - started

    return timed


def test_health_gives_up_on_a_ping_never_answered_after_the_ping_timeout(
    server: MockupDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without its own bound the ping would wait for its answer as long as any operation (SOCKET_TIMEOUT_MS,
    5 s): pymongo.timeout bounds the whole ping, the wait for the answer too, not only server selection."""
    monkeypatch.setenv("MONGODB_PING_TIMEOUT_MS", "300")

    with going(_timed(invoke, "health")) as checked:
        server.receives()  # the ping, never answered

    result, elapsed = checked()
    assert (result.status, result.body["database"], result.body["version"]) == (503, "unavailable", __version__)
    assert elapsed < 2.5  # half the socket timeout; about 0.3 s


def test_make_account_gives_up_on_a_ping_never_answered_with_one_line(
    server: MockupDB, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONGODB_PING_TIMEOUT_MS", "300")

    with going(_timed(admin.main, ["sessions", "ada@example.com"])) as ran:
        server.receives()  # the first request, never answered

    status, elapsed = ran()
    err = capsys.readouterr().err
    assert (status, err.count("\n")) == (1, 1), err
    assert err.startswith("make account: the database did not answer a ping within 0.3 s (MONGODB_PING_TIMEOUT_MS): ")
    assert elapsed < 2.5


def test_make_account_works_past_the_ping_timeout_once_the_ping_is_answered(
    server: MockupDB, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ping's bound is the ping's: the work after it keeps the functions' timeouts."""
    monkeypatch.setenv("MONGODB_PING_TIMEOUT_MS", "200")

    with going(admin.main, ["sessions", "ada@example.com"]) as ran:
        server.receives(OpMsg("ping")).ok()
        lookup = server.receives(OpMsg("find", "users"))
        time.sleep(0.6)  # three ping timeouts
        lookup.ok(cursor={"id": 0, "ns": "emergent_db.users", "firstBatch": []})

    assert ran() == 1
    assert capsys.readouterr().err == "make account: no account has the email ada@example.com\n"


OPERATOR_COMMANDS: dict[str, Callable[[], int]] = {
    "make account": lambda: admin.main(["sessions", "ada@example.com"]),
    "make indexes": indexes.main,
    "make migrate-seed": migrate_seed.main,
}


@pytest.mark.parametrize("command", OPERATOR_COMMANDS)
def test_a_database_refusing_the_password_is_one_line_and_exit_status_1(
    server: MockupDB, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    monkeypatch.setenv("MONGODB_URI", f"mongodb://ada:wrong@{server.address_string}/?replicaSet={REPLICA_SET}")
    refused = {"ok": 0, "code": 18, "codeName": "AuthenticationFailed", "errmsg": "Authentication failed."}

    with going(OPERATOR_COMMANDS[command]) as ran:
        server.receives(OpMsg("saslStart")).replies(refused)

    assert ran() == 1
    expected = (
        f"{command}: the database at {server.address_string} refused: AuthenticationFailed: Authentication failed.\n"
    )
    assert capsys.readouterr().err == expected


def test_make_account_refused_its_query_is_one_line_and_exit_status_1(
    server: MockupDB, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database user without the rights the command needs: the ping passes, the query is refused."""
    unauthorized = {
        "ok": 0,
        "code": 13,
        "codeName": "Unauthorized",
        "errmsg": 'not authorized on emergent_db to execute command { find: "users" }',
    }

    with going(admin.main, ["sessions", "ada@example.com"]) as ran:
        server.receives(OpMsg("ping")).ok()
        server.receives(OpMsg("find", "users")).replies(unauthorized)

    assert ran() == 1
    err = capsys.readouterr().err
    assert err.startswith("make account: OperationFailure: not authorized on emergent_db to execute command")
    assert err.count("\n") == 1
