"""Custom::MongoIndexes: CloudFormation's requests, answered by a PUT to the pre-signed ResponseURL.

A local HTTP server stands in for that URL; the database is the embedded store, or real pymongo at
a closed port for the unreachable case.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import mongomock
import pytest
from pymongo.errors import OperationFailure

from shared.config import DEFAULT_DB_NAME
from shared.data import client as db
from shared.data import indexes
from shared.data.indexes import INDEXES, IndexConflict
from tests.support import FakeContext, load_event, load_function

PHYSICAL_ID = "prompt-api-dev-MongoIndexes"  # from the fixture's StackId and LogicalResourceId


@dataclass
class Answers:
    """What CloudFormation's pre-signed URL received: one (headers, JSON body) per PUT."""

    url: str
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)

    def only(self) -> dict[str, Any]:
        assert len(self.received) == 1, self.received
        return self.received[0][1]


@pytest.fixture
def cloudformation() -> Iterator[Answers]:
    """A server on 127.0.0.1 that takes the place of the event's ResponseURL."""
    answers = Answers(url="")

    class ResponseUrl(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answers.received.append((dict(self.headers), json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), ResponseUrl)
    answers.url = f"http://127.0.0.1:{server.server_address[1]}/response?X-Amz-Signature=0"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield answers
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def bare_store() -> mongomock.MongoClient:
    """The embedded store as a new database has it: no index yet."""
    client = mongomock.MongoClient(tz_aware=True)
    db.use_client(client)
    return client


def cloudformation_event(request_type: str, answers: Answers, *, physical_id: str | None = None) -> dict[str, Any]:
    """The fixture events/indexes.json as CloudFormation sends it for ``request_type``."""
    event = copy.deepcopy(load_event("indexes"))
    event["RequestType"] = request_type
    event["ResponseURL"] = answers.url
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if request_type == "Update":
        event["OldResourceProperties"] = copy.deepcopy(event["ResourceProperties"])
        event["ResourceProperties"]["SharedLayerVersion"] = event["ResourceProperties"]["SharedLayerVersion"][:-1] + "2"
    return event


class ShortContext(FakeContext):
    """A context with little time left, so that the function's own timer fires soon."""

    def get_remaining_time_in_millis(self) -> int:
        return 5_600


def run(event: dict[str, Any], context: FakeContext | None = None) -> None:
    load_function("indexes").lambda_handler(event, context or FakeContext())


def index_names(client: mongomock.MongoClient) -> dict[str, set[str]]:
    database = client[DEFAULT_DB_NAME]
    return {name: set(database[name].index_information()) - {"_id_"} for name in INDEXES}


def test_create_creates_every_index_and_answers_success(cloudformation: Answers, bare_store: Any) -> None:
    event = cloudformation_event("Create", cloudformation)

    run(event)

    answer = cloudformation.only()
    assert answer == {
        "Status": "SUCCESS",
        "Reason": "SUCCESS",
        "PhysicalResourceId": PHYSICAL_ID,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": "MongoIndexes",
        "Data": {"Database": DEFAULT_DB_NAME, "Indexes": str(sum(len(indexes) for indexes in INDEXES.values()))},
    }
    assert index_names(bare_store) == {name: {index.name for index in indexes} for name, indexes in INDEXES.items()}
    users = bare_store[DEFAULT_DB_NAME].users.index_information()
    assert users["email_unique"]["unique"] is True


def test_answer_is_put_without_a_content_type_as_the_presigned_url_expects(
    cloudformation: Answers, bare_store: Any
) -> None:
    run(cloudformation_event("Create", cloudformation))

    ((headers, _),) = cloudformation.received
    assert headers.get("Content-Type", "") == ""


def test_update_answers_success_with_the_same_physical_resource_id(cloudformation: Answers, bare_store: Any) -> None:
    run(cloudformation_event("Create", cloudformation))
    created = cloudformation.received.pop()[1]

    run(cloudformation_event("Update", cloudformation, physical_id=created["PhysicalResourceId"]))

    answer = cloudformation.only()
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", PHYSICAL_ID)
    assert index_names(bare_store)["sessions"] == {"refresh_hash_unique", "spent_hashes", "user", "expires"}


def test_delete_answers_success_and_drops_no_index(cloudformation: Answers, bare_store: Any) -> None:
    run(cloudformation_event("Create", cloudformation))
    before = index_names(bare_store)
    cloudformation.received.clear()

    run(cloudformation_event("Delete", cloudformation, physical_id=PHYSICAL_ID))

    answer = cloudformation.only()
    assert (answer["Status"], answer["PhysicalResourceId"], answer["Data"]) == ("SUCCESS", PHYSICAL_ID, {})
    assert index_names(bare_store) == before


@pytest.mark.usefixtures("unreachable_mongodb")
def test_unreachable_database_answers_failed_with_a_short_reason(cloudformation: Answers) -> None:
    event = cloudformation_event("Create", cloudformation)
    started = time.monotonic()

    run(event)

    answer = cloudformation.only()
    assert time.monotonic() - started < 5
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        "Indexes not (all) created: Database unavailable, or slower than the function's timeout (log stream test)"
    )
    assert (answer["PhysicalResourceId"], answer["RequestId"]) == (PHYSICAL_ID, event["RequestId"])


def test_stored_duplicates_answer_failed_naming_the_refusal(cloudformation: Answers, bare_store: Any) -> None:
    bare_store[DEFAULT_DB_NAME].users.insert_many([{"email": "ada@example.com"}, {"email": "ada@example.com"}])

    run(cloudformation_event("Update", cloudformation, physical_id=PHYSICAL_ID))

    answer = cloudformation.only()
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("MongoDB refused to create the indexes (")


def test_unexpected_error_answers_failed_without_its_message(
    cloudformation: Answers, bare_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = load_function("indexes")

    def broken(database: Any) -> list[str]:
        raise RuntimeError("mongodb://admin:hunter2@db.example.com")

    monkeypatch.setattr(function, "ensure_indexes", broken)

    function.lambda_handler(cloudformation_event("Create", cloudformation), FakeContext())

    answer = cloudformation.only()
    assert (answer["Status"], answer["Reason"]) == ("FAILED", "Indexes not created: RuntimeError (log stream test)")


def test_function_answers_failed_before_its_own_timeout(
    cloudformation: Answers, bare_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = load_function("indexes")

    def slow(database: Any) -> list[str]:
        time.sleep(1.5)  # longer than the 0.6 s the timer leaves before the function's last 5 s
        return []

    monkeypatch.setattr(function, "ensure_indexes", slow)

    function.lambda_handler(cloudformation_event("Create", cloudformation), ShortContext())

    answer = cloudformation.only()  # the handler's own SUCCESS came too late and was not sent
    assert (answer["Status"], answer["Reason"]) == ("FAILED", "Timed out creating the indexes (log stream test)")


def test_user_without_index_rights_answers_failed_saying_what_it_needs(
    cloudformation: Answers, bare_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = load_function("indexes")

    def unauthorized(database: Any) -> list[str]:
        raise OperationFailure("not authorized on emergent_db", code=13, details={"codeName": "Unauthorized"})

    monkeypatch.setattr(function, "ensure_indexes", unauthorized)

    function.lambda_handler(cloudformation_event("Create", cloudformation), FakeContext())

    assert cloudformation.only()["Reason"] == (
        "MongoDB refused to create the indexes (Unauthorized): the database user needs the createIndex action"
        " (log stream test)"
    )


# make indexes (python -m shared.data.indexes) ---------------------------------------------------


def test_make_indexes_without_a_uri_says_which_variable_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("JWT_SECRET")

    assert indexes.main() == 2
    assert capsys.readouterr().err == "make indexes: set MONGODB_URI to the database to create the indexes on\n"


def test_make_indexes_reads_the_database_settings_and_needs_no_jwt_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = mongomock.MongoClient(tz_aware=True)
    connected: list[str] = []

    def client(uri: str, **options: Any) -> mongomock.MongoClient:
        connected.append(uri)
        return store

    monkeypatch.setattr("pymongo.MongoClient", client)
    monkeypatch.delenv("JWT_SECRET")
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example:27017")
    monkeypatch.setenv("MONGODB_DB_NAME", "developer_db")

    assert indexes.main() == 0

    assert connected == ["mongodb://db.example:27017"]
    assert capsys.readouterr().out.startswith("developer_db: users.email_unique, ")
    assert store["developer_db"].users.index_information()["email_unique"]["unique"] is True


def test_make_indexes_refuses_a_bad_database_setting_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example:27017")
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "soon")

    assert indexes.main() == 2
    assert capsys.readouterr().err == "make indexes: MONGODB_TIMEOUT_MS must be an integer, got 'soon'\n"


def test_an_equivalent_index_made_by_hand_is_reused_and_the_answer_says_so(
    cloudformation: Answers, bare_store: Any
) -> None:
    bare_store[DEFAULT_DB_NAME].users.create_index("email", unique=True)  # email_1
    bare_store[DEFAULT_DB_NAME].sessions.create_index("expires_at", name="expires", expireAfterSeconds=60)

    run(cloudformation_event("Update", cloudformation, physical_id=PHYSICAL_ID))

    answer = cloudformation.only()
    assert answer["Status"] == "SUCCESS"
    count = sum(len(indexes) for indexes in INDEXES.values())
    assert answer["Reason"] == f"{count} indexes ensured; reused users.email_1; replaced sessions.expires"
    assert answer["Data"] == {
        "Database": DEFAULT_DB_NAME,
        "Indexes": str(sum(len(indexes) for indexes in INDEXES.values())),
        "Reused": "users.email_1",
        "Replaced": "sessions.expires",
    }
    assert "email_unique" not in bare_store[DEFAULT_DB_NAME].users.index_information()


def test_an_index_standing_in_the_way_answers_failed_saying_what_to_run(
    cloudformation: Answers, bare_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = load_function("indexes")
    message = (
        "sessions.expires_at_1 has the keys of our index expires but other options (ours: {'expireAfterSeconds': 0}): "
        'give it ours or drop it (db.sessions.dropIndex("expires_at_1")), then create the indexes again (make '
        "indexes, or deploy)"
    )

    def conflict(database: Any) -> list[Any]:
        raise IndexConflict(message)

    monkeypatch.setattr(function, "ensure_indexes", conflict)

    function.lambda_handler(cloudformation_event("Update", cloudformation, physical_id=PHYSICAL_ID), FakeContext())

    answer = cloudformation.only()
    assert (answer["Status"], answer["Reason"]) == ("FAILED", f"{message} (log stream test)")
