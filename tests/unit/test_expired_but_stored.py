"""Documents past their TTL that a server still holds: the code must treat them as gone.

A server's TTL monitor deletes expired documents about once a minute, so for up to a minute (or more
under load) an expired session, login window or idempotency record is still found by every query.
The tests' store keeps them too, until ``ttl_pass()`` (``tests.support``): each test here first checks
the expired document is still stored, so it reaches the expiry filter of the code it is about.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_api.store import server_like_client, ttl_pass
from shared.accounts.login_attempts import LoginAttemptRepository
from shared.accounts.sessions import SessionRepository
from shared.data.client import get_database
from shared.data.idempotency import Claim, IdempotencyRecords, KeyReused, record_id
from shared.ids import utcnow
from tests.support import ensure_user
from tests.support import ttl_pass as store_ttl_pass

EMAIL = "ada@example.com"
WINDOW = timedelta(minutes=15)


def _past(seconds: float = 1) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


# The store itself -----------------------------------------------------------------------------


def test_server_like_store_keeps_expired_documents_through_reads_until_a_ttl_pass() -> None:
    collection = server_like_client()["db"]["things"]
    collection.create_index("expires_at", expireAfterSeconds=0)
    collection.insert_many([{"_id": "expired", "expires_at": _past()}, {"_id": "live", "expires_at": _past(-60)}])

    read = [d["_id"] for d in collection.find()]
    counted = collection.count_documents({})
    by_id = collection.find_one({"_id": "expired"})
    deleted = ttl_pass(collection.database.client)

    assert (read, counted, by_id is not None) == (["expired", "live"], 2, True)
    assert deleted == 1
    assert [d["_id"] for d in collection.find()] == ["live"]


def test_tests_store_is_server_like_and_ttl_pass_runs_on_it() -> None:
    get_database().sessions.insert_one({"_id": "s", "user_id": "u", "expires_at": _past()})

    assert get_database().sessions.count_documents({"_id": "s"}) == 1
    assert store_ttl_pass() == 1
    assert get_database().sessions.count_documents({"_id": "s"}) == 0


# Sessions ---------------------------------------------------------------------------------------


def _expired_session() -> tuple[str, str]:
    """A session (id, refresh token) whose refresh expiry has passed, still stored."""
    ensure_user("u-1")
    repository = SessionRepository()
    session = repository.start("u-1")
    get_database().sessions.update_one({"_id": session.session_id}, {"$set": {"expires_at": _past()}})
    assert get_database().sessions.count_documents({"_id": session.session_id}) == 1
    return session.session_id, session.refresh_token


def test_a_retried_refresh_is_refused_once_its_session_expired_even_within_the_grace() -> None:
    ensure_user("u-1")
    repository = SessionRepository()
    session = repository.start("u-1")
    assert repository.rotate(session.refresh_token, successor="its successor") is not None
    get_database().sessions.update_one({"_id": session.session_id}, {"$set": {"expires_at": _past()}})

    retried = repository.just_rotated(session.refresh_token, successor="its successor", grace=timedelta(minutes=1))

    assert retried is None
    assert get_database().sessions.count_documents({"_id": session.session_id}) == 1  # still stored


def test_rotation_refuses_the_refresh_token_of_an_expired_but_stored_session() -> None:
    session_id, refresh_token = _expired_session()

    assert SessionRepository().rotate(refresh_token, successor="its successor") is None
    stored = get_database().sessions.find_one({"_id": session_id})
    assert stored is not None
    assert stored["spent_hashes"] == []  # nothing was spent, nothing extended
    assert stored["expires_at"] < datetime.now(UTC)


def test_authorizer_lookup_finds_no_live_session_when_it_expired_but_is_stored() -> None:
    session_id, _ = _expired_session()

    assert SessionRepository().live_with_user(session_id) is None


def test_authorizer_lookup_still_finds_a_live_session() -> None:  # the same query, not refusing everything
    ensure_user("u-1")
    session = SessionRepository().start("u-1")

    found = SessionRepository().live_with_user(session.session_id)

    assert found is not None
    assert (found[0]["_id"], found[1] is not None and found[1]["_id"]) == (session.session_id, "u-1")


# Login windows ----------------------------------------------------------------------------------


def test_reserve_starts_a_new_window_over_an_expired_but_stored_one() -> None:
    now = utcnow()
    get_database().login_attempts.insert_one({"_id": EMAIL, "count": 9, "expires_at": now - timedelta(seconds=1)})

    count, ends = LoginAttemptRepository().reserve(EMAIL, window=WINDOW, now=now)

    assert (count, ends) == (1, now + WINDOW)
    stored = get_database().login_attempts.find_one({"_id": EMAIL})
    assert stored is not None
    assert (stored["count"], stored["expires_at"]) == (1, now + WINDOW)


def test_reserve_counts_on_in_a_live_window() -> None:
    now = utcnow()
    get_database().login_attempts.insert_one({"_id": EMAIL, "count": 3, "expires_at": now + timedelta(minutes=5)})

    assert LoginAttemptRepository().reserve(EMAIL, window=WINDOW, now=now) == (4, now + timedelta(minutes=5))


class _RacingCollection:
    """The login_attempts collection, where another container's first attempt lands right after this
    container found no live window (so this one's insert meets a duplicate key)."""

    def __init__(self, real: Any, concurrent: Callable[[], None]) -> None:
        self._real = real
        self._concurrent: Callable[[], None] | None = concurrent

    def find_one_and_update(self, *args: Any, **kwargs: Any) -> Any:
        found = self._real.find_one_and_update(*args, **kwargs)
        if self._concurrent is not None:
            self._concurrent, concurrent = None, self._concurrent
            concurrent()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_reserve_never_replaces_a_live_window_a_concurrent_first_attempt_just_started() -> None:
    now = utcnow()
    collection = get_database().login_attempts
    repository = LoginAttemptRepository()
    concurrent = {"_id": EMAIL, "count": 1, "expires_at": now + WINDOW}
    repository.collection = _RacingCollection(collection, lambda: collection.insert_one(dict(concurrent)))  # type: ignore[assignment]

    count, ends = repository.reserve(EMAIL, window=WINDOW, now=now + timedelta(seconds=1))

    assert (count, ends) == (2, now + WINDOW)  # counted in the other attempt's window, which stays
    assert collection.find_one({"_id": EMAIL}) == {"_id": EMAIL, "count": 2, "expires_at": now + WINDOW}


def test_reserve_replaces_an_expired_window_a_concurrent_attempt_left_after_this_one_looked() -> None:
    now = utcnow()
    collection = get_database().login_attempts
    repository = LoginAttemptRepository()
    expired = {"_id": EMAIL, "count": 7, "expires_at": now - timedelta(seconds=1)}
    repository.collection = _RacingCollection(collection, lambda: collection.insert_one(dict(expired)))  # type: ignore[assignment]

    assert repository.reserve(EMAIL, window=WINDOW, now=now) == (1, now + WINDOW)
    assert collection.find_one({"_id": EMAIL}) == {"_id": EMAIL, "count": 1, "expires_at": now + WINDOW}


# Idempotency records ----------------------------------------------------------------------------


def _claim(body: str) -> Claim:
    return IdempotencyRecords().claim(scope="test", user_id="u-1", key="k", body=body)


def test_a_key_past_its_24_hours_but_stored_is_claimed_afresh() -> None:
    _claim("hash-1")
    IdempotencyRecords().complete(scope="test", user_id="u-1", key="k", response={"id": "p-1"})
    record = record_id("test", "u-1", "k")
    first_used = _past(24 * 60 * 60 + 1)
    get_database().idempotency.update_one({"_id": record}, {"$set": {"first_used": first_used, "expiration": _past()}})
    assert get_database().idempotency.count_documents({"_id": record}) == 1

    again = _claim("hash-2")  # another body: a new request, since the first one's 24 hours passed

    assert again.response is None
    assert again.first_used_ms > first_used.timestamp() * 1000  # a new first use: a new keyed prompt id
    stored = get_database().idempotency.find_one({"_id": record})
    assert stored is not None
    assert (stored["body_hash"], stored.get("response")) == ("hash-2", None)


def test_a_live_key_replays_and_refuses_another_body() -> None:
    first = _claim("hash-1")
    IdempotencyRecords().complete(scope="test", user_id="u-1", key="k", response={"id": "p-1"})

    assert _claim("hash-1") == Claim(first.first_used_ms, {"id": "p-1"})
    with pytest.raises(KeyReused):
        _claim("hash-2")
