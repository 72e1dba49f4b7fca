"""The MongoDB persistence layer of Powertools' idempotency utility, and ``run_once`` around it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from pydantic import BaseModel
from pymongo.errors import ServerSelectionTimeoutError

from shared.data.client import get_database
from shared.errors import Conflict, InvalidInput, ServiceUnavailable
from shared.http.idempotency import MongoPersistenceLayer, run_once
from tests.support import FakeContext


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def _layer() -> MongoPersistenceLayer:
    layer = MongoPersistenceLayer()
    layer.configure(IdempotencyConfig(payload_validation_jmespath="body"), key_prefix="test")
    return layer


def _in_progress(key: str = "test#k", *, payload: str = "hash-1", in_progress_for_ms: int = 60_000) -> DataRecord:
    return DataRecord(
        idempotency_key=key,
        status="INPROGRESS",
        expiry_timestamp=_now() + 3600,
        in_progress_expiry_timestamp=int(datetime.now(UTC).timestamp() * 1000) + in_progress_for_ms,
        payload_hash=payload,
    )


def test_put_record_stores_an_in_progress_document() -> None:
    _layer()._put_record(_in_progress())

    stored = get_database().idempotency.find_one({"_id": "test#k"})
    assert stored is not None
    assert stored["status"] == "INPROGRESS"
    assert stored["validation"] == "hash-1"
    assert stored["expiration"] > datetime.now(UTC) + timedelta(minutes=59)


def test_put_record_over_a_live_record_raises_already_exists_with_that_record() -> None:
    layer = _layer()
    layer._put_record(_in_progress())

    with pytest.raises(IdempotencyItemAlreadyExistsError) as exists:
        layer._put_record(_in_progress())

    assert exists.value.old_data_record is not None
    assert exists.value.old_data_record.idempotency_key == "test#k"
    assert exists.value.old_data_record.status == "INPROGRESS"


def test_put_record_over_a_live_record_with_another_payload_raises_validation_error() -> None:
    layer = _layer()
    layer._put_record(_in_progress())

    with pytest.raises(IdempotencyValidationError):
        layer._put_record(_in_progress(payload="hash-2"))


def test_put_record_takes_over_an_expired_record() -> None:
    layer = _layer()
    layer._put_record(_in_progress())
    get_database().idempotency.update_one({}, {"$set": {"expiration": datetime.now(UTC) - timedelta(seconds=1)}})

    layer._put_record(_in_progress(payload="hash-2"))

    assert get_database().idempotency.find_one({"_id": "test#k"})["validation"] == "hash-2"


def test_put_record_takes_over_an_in_progress_record_whose_invocation_timed_out() -> None:
    layer = _layer()
    layer._put_record(_in_progress(in_progress_for_ms=-1))

    layer._put_record(_in_progress(payload="hash-2"))

    assert get_database().idempotency.find_one({"_id": "test#k"})["validation"] == "hash-2"


def test_a_completed_record_is_not_taken_over_before_it_expires() -> None:
    layer = _layer()
    layer._put_record(_in_progress(in_progress_for_ms=1))
    completed = DataRecord(
        "test#k", status="COMPLETED", expiry_timestamp=_now() + 3600, response_data='{"a": 1}', payload_hash="hash-1"
    )
    layer._update_record(completed)

    with pytest.raises(IdempotencyItemAlreadyExistsError) as exists:
        layer._put_record(_in_progress(in_progress_for_ms=-1))

    record = exists.value.old_data_record
    assert record is not None
    assert (record.status, record.response_json_as_dict()) == ("COMPLETED", {"a": 1})
    assert "in_progress_expiry" not in get_database().idempotency.find_one({"_id": "test#k"})


def test_get_record_of_an_unknown_key_raises_not_found() -> None:
    with pytest.raises(IdempotencyItemNotFoundError):
        _layer()._get_record("test#unknown")


def test_delete_record_removes_it() -> None:
    layer = _layer()
    layer._put_record(_in_progress())

    layer._delete_record(DataRecord("test#k"))

    assert get_database().idempotency.count_documents({}) == 0


def test_idempotency_indexes_expire_records_at_their_expiration() -> None:
    index = get_database().idempotency.index_information()["expires"]
    assert index["key"] == [("expiration", 1)]
    assert index["expireAfterSeconds"] == 0


# run_once -------------------------------------------------------------------------------------


class Thing(BaseModel):
    id: int
    name: str


class Body(BaseModel):
    name: str


def _run(body: Body, *, user_id: str = "user-1", key: str = "key-1", calls: list[int] | None = None) -> Thing:
    calls = calls if calls is not None else []

    def write() -> Thing:
        calls.append(1)
        return Thing(id=len(calls), name=body.name)

    return run_once(write, model=Thing, scope="test", user_id=user_id, key=key, body=body, context=FakeContext())


def test_run_once_writes_once_and_replays_the_result() -> None:
    calls: list[int] = []

    first = _run(Body(name="a"), calls=calls)
    again = _run(Body(name="a"), calls=calls)

    assert first == again == Thing(id=1, name="a")
    assert calls == [1]


def test_run_once_keys_are_scoped_by_user() -> None:
    calls: list[int] = []

    _run(Body(name="a"), user_id="user-1", calls=calls)
    _run(Body(name="a"), user_id="user-2", calls=calls)

    assert calls == [1, 1]
    assert all(doc["_id"].startswith("test#") for doc in get_database().idempotency.find())


def test_run_once_with_another_body_is_invalid_input() -> None:
    _run(Body(name="a"))

    with pytest.raises(InvalidInput) as invalid:
        _run(Body(name="b"))

    assert invalid.value.detail[0]["loc"] == ["header", "Idempotency-Key"]


def test_run_once_while_in_progress_is_a_conflict() -> None:
    _run(Body(name="a"))
    in_progress_until = int((datetime.now(UTC) + timedelta(minutes=1)).timestamp() * 1000)
    get_database().idempotency.update_one(
        {}, {"$set": {"status": "INPROGRESS", "in_progress_expiry": in_progress_until}}
    )

    with pytest.raises(Conflict):
        _run(Body(name="a"))


class _Unreachable:
    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise ServerSelectionTimeoutError("no servers")

        return fail


def test_run_once_without_a_database_is_service_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MongoPersistenceLayer, "collection", property(lambda self: _Unreachable()))
    calls: list[int] = []

    with pytest.raises(ServiceUnavailable):
        _run(Body(name="a"), calls=calls)

    assert calls == []
