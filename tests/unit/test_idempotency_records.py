"""The ``idempotency`` collection's records: claimed once per (scope, user, key) for 24 hours, another
body refused, an expired record claimed afresh, the first response kept, removed with their user."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.data.client import get_database
from shared.data.idempotency import Claim, IdempotencyRecords, KeyReused, body_hash, record_id
from shared.ids import utcnow

BODY = body_hash({"content": "x"})


def _claim(user_id: str = "u", key: str = "k", body: str = BODY) -> Claim:
    return IdempotencyRecords().claim(scope="s", user_id=user_id, key=key, body=body)


def test_first_claim_stores_the_record_without_the_body() -> None:
    claim = _claim()

    (record,) = get_database().idempotency.find()
    assert record["_id"] == record_id("s", "u", "k")
    assert (record["user_id"], record["body_hash"]) == ("u", BODY)
    assert record["expiration"] - record["first_used"] == timedelta(hours=24)
    assert claim.response is None
    assert claim.first_used_ms == int(record["first_used"].timestamp() * 1000)


def test_a_second_claim_finds_the_first_use_and_after_completion_its_response() -> None:
    first = _claim()
    again = _claim()
    IdempotencyRecords().complete(scope="s", user_id="u", key="k", response={"id": "p"})
    IdempotencyRecords().complete(scope="s", user_id="u", key="k", response={"id": "other"})

    assert again.first_used_ms == first.first_used_ms
    assert _claim().response == {"id": "p"}  # the first response stays


def test_a_claim_with_another_body_is_refused() -> None:
    _claim()

    with pytest.raises(KeyReused):
        _claim(body=body_hash({"content": "y"}))


def test_a_record_past_its_24_hours_is_claimed_afresh() -> None:
    first = _claim()
    get_database().idempotency.update_one({}, {"$set": {"expiration": utcnow() - timedelta(seconds=1)}})

    again = _claim(body=body_hash({"content": "y"}))

    assert again.first_used_ms >= first.first_used_ms
    assert again.response is None
    assert get_database().idempotency.find_one({})["body_hash"] == body_hash({"content": "y"})


def test_keys_of_different_users_never_meet_and_records_go_with_their_user() -> None:
    _claim("u")
    _claim("v")

    assert IdempotencyRecords().delete_all("u") == 1
    assert [r["user_id"] for r in get_database().idempotency.find()] == ["v"]


def test_body_hash_is_canonical() -> None:
    assert body_hash({"a": 1, "b": "é"}) == body_hash({"b": "é", "a": 1})


def test_a_completed_record_of_powertools_layout_replays_and_any_other_is_claimed_afresh() -> None:
    future = utcnow() + timedelta(hours=1)
    legacy = {"status": "COMPLETED", "expiration": future, "data": '{"id": "p"}', "validation": "x"}
    get_database().idempotency.insert_one({"_id": record_id("s", "u", "done"), **legacy})
    in_progress = {"status": "INPROGRESS", "expiration": future, "in_progress_expiry": 1}
    get_database().idempotency.insert_one({"_id": record_id("s", "u", "running"), **in_progress})

    assert _claim(key="done").response == {"id": "p"}
    claimed = _claim(key="running")

    assert claimed.response is None
    assert get_database().idempotency.find_one({"_id": record_id("s", "u", "running")})["user_id"] == "u"
