"""``retry_once``: the idempotent multi-document writes the driver never retries, retried once here.

These tests fake the errors in front of the in-memory store; ``test_driver_behaviour.py`` shows the
same steps against the MongoDB wire protocol (mockupdb), where pymongo itself raises them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pymongo.errors import (
    AutoReconnect,
    DuplicateKeyError,
    NetworkTimeout,
    NotPrimaryError,
    OperationFailure,
    ServerSelectionTimeoutError,
    WriteConcernError,
)

from shared.accounts.sessions import SessionRepository
from shared.data.client import get_database, retry_once
from shared.errors import ServiceUnavailable
from shared.prompts.prompts import PromptRepository
from tests.support import ensure_user


def _failing(*errors: Exception, then: Any = "done") -> tuple[Callable[[], Any], list[int]]:
    """A write that raises ``errors`` in turn, then returns ``then``; and the list of its calls."""
    calls: list[int] = []

    def write() -> Any:
        calls.append(len(calls))
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return then

    return write, calls


@pytest.mark.parametrize(
    "error",
    [
        AutoReconnect("connection closed"),
        NetworkTimeout("timed out"),
        NotPrimaryError("not primary", {"code": 10107, "errmsg": "not primary"}),
        OperationFailure("stepped down", code=189),
        WriteConcernError("shutting down", code=91),
        OperationFailure("labelled", code=1, details={"errorLabels": ["RetryableWriteError"]}),
    ],
    ids=["network", "socket-timeout", "not-writable-primary", "primary-stepped-down", "wc-shutdown", "label"],
)
def test_a_write_that_met_a_retryable_error_runs_once_more(error: Exception) -> None:
    write, calls = _failing(error)

    assert retry_once(write) == "done"
    assert calls == [0, 1]


@pytest.mark.parametrize(
    "error",
    [
        ServerSelectionTimeoutError("no primary"),
        DuplicateKeyError("E11000", code=11000),
        OperationFailure("unauthorized", code=13),
    ],
    ids=["no-server-within-the-timeout", "duplicate-key", "not-authorized"],
)
def test_other_errors_are_not_retried(error: Exception) -> None:
    write, calls = _failing(error)

    with pytest.raises(type(error)):
        retry_once(write)
    assert calls == [0]


def test_a_second_failure_is_raised() -> None:
    write, calls = _failing(AutoReconnect("first"), AutoReconnect("second"))

    with pytest.raises(AutoReconnect, match="second"):
        retry_once(write)
    assert calls == [0, 1]


class _DropsAfterApplying:
    """A collection whose next ``method`` is applied, then its answer lost (the connection dropped)."""

    def __init__(self, real: Any, method: str, *, times: int = 1) -> None:
        self._real, self._method, self._left = real, method, times

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._real, name)
        if name != self._method:
            return attribute

        def applied_then_dropped(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            if self._left > 0:
                self._left -= 1
                raise AutoReconnect("connection reset by peer")
            return result

        return applied_then_dropped


def _sessions(user_id: str, count: int) -> SessionRepository:
    ensure_user(user_id)
    repository = SessionRepository()
    for _ in range(count):
        repository.start(user_id)
    return repository


def test_ending_every_session_survives_a_connection_dropped_after_the_server_applied_it() -> None:
    repository = _sessions("u-1", 2)
    repository.collection = _DropsAfterApplying(repository.collection, "update_many")  # type: ignore[assignment]

    ended = repository.end_all("u-1", reason="password_change")

    assert ended == 0  # the retry's count: the first run, whose answer was lost, ended both
    stored = list(get_database().sessions.find({"user_id": "u-1"}))
    assert [(s["ended_at"] is not None, s["end_reason"]) for s in stored] == [(True, "password_change")] * 2


def test_removing_every_session_survives_a_connection_dropped_after_the_server_applied_it() -> None:
    repository = _sessions("u-1", 2)
    repository.collection = _DropsAfterApplying(repository.collection, "delete_many")  # type: ignore[assignment]

    repository.delete_all("u-1")

    assert get_database().sessions.count_documents({"user_id": "u-1"}) == 0


def test_removing_every_prompt_survives_a_connection_dropped_after_the_server_applied_it() -> None:
    get_database().prompts.insert_many([{"_id": f"p{i}", "user_id": "u-1"} for i in range(3)])
    repository = PromptRepository()
    repository.collection = _DropsAfterApplying(repository.collection, "delete_many")  # type: ignore[assignment]

    repository.delete_all("u-1")

    assert get_database().prompts.count_documents({"user_id": "u-1"}) == 0


def test_a_connection_dropped_twice_is_a_503() -> None:
    repository = _sessions("u-1", 1)
    repository.collection = _DropsAfterApplying(repository.collection, "update_many", times=2)  # type: ignore[assignment]

    with pytest.raises(ServiceUnavailable):
        repository.end_all("u-1", reason="password_change")
