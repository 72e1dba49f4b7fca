"""Sessions, login throttling and account deletion under concurrency and interleaving.

The embedded store (mongomock) is not thread-safe: ``serialized_store`` makes each of its
collection operations atomic with one lock, as a server makes each single-document write atomic.
What decides the winners is still the code's conditional updates.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import pytest

from shared import config
from shared.accounts import sessions as sessions_module
from shared.accounts.change_password import change_password
from shared.accounts.deactivate import deactivate
from shared.accounts.delete_account import delete_account
from shared.accounts.login import log_in
from shared.accounts.login_attempts import LoginAttemptRepository
from shared.accounts.models import AccountDeletion, PasswordChange, Token, TokenRefresh, UserCreate, UserLogin
from shared.accounts.passwords import hash_password
from shared.accounts.refresh import refresh_session
from shared.accounts.refresh_tokens import hash_refresh_token, new_refresh_token
from shared.accounts.register import register_user
from shared.accounts.sessions import SessionRepository, session_is_valid
from shared.accounts.users import UserRepository
from shared.data.client import get_database
from shared.errors import BadRequest, ServiceUnavailable, TooManyRequests, Unauthorized
from shared.ids import utcnow
from shared.prompts.create_prompt import create_owned_prompt
from shared.prompts.models import PromptCreate
from shared.prompts.prompts import PromptRepository
from tests.support import PASSWORD

ADDRESS = "203.0.113.10"
_OPERATIONS = (
    "find_one",
    "find_one_and_update",
    "insert_one",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "count_documents",
    "aggregate",
)


@pytest.fixture
def serialized_store(monkeypatch: pytest.MonkeyPatch) -> None:
    lock = threading.RLock()
    for name in _OPERATIONS:
        real = getattr(mongomock.collection.Collection, name)

        def locked(self: Any, *args: Any, _real: Callable[..., Any] = real, _name: str = name, **kwargs: Any) -> Any:
            with lock:
                result = _real(self, *args, **kwargs)
                return iter(list(result)) if _name == "aggregate" else result

        monkeypatch.setattr(mongomock.collection.Collection, name, locked)


def _together(count: int, action: Callable[[], Any]) -> list[Any]:
    """Run ``action`` in ``count`` threads released at once; each result or the exception raised."""
    barrier = threading.Barrier(count)

    def run() -> Any:
        barrier.wait()
        try:
            return action()
        except Exception as e:  # the outcome under test
            return e

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: run(), range(count)))


def _user(email: str = "ada@example.com") -> str:
    return register_user(UserCreate(email=email, username="ada", password=PASSWORD), client_address="203.0.113.10").id


def _login(email: str = "ada@example.com", password: str = PASSWORD) -> Token:
    return log_in(UserLogin(email=email, password=password), client_address=ADDRESS)


@pytest.fixture
def store() -> Iterator[None]:
    get_database()  # the container's client and database first, outside the threads
    yield


@pytest.mark.usefixtures("store", "serialized_store")
def test_concurrent_refreshes_of_one_token_all_get_the_same_successor() -> None:
    _user()
    pair = _login()

    outcomes = _together(8, lambda: refresh_session(TokenRefresh(refresh_token=pair.refresh_token)))

    assert all(isinstance(o, Token) for o in outcomes), outcomes
    assert len({o.refresh_token for o in outcomes}) == 1  # one successor, handed to every tab
    assert len({o.access_token for o in outcomes}) == 8  # each answer a new access token
    session = get_database().sessions.find_one()
    assert session["ended_at"] is None
    assert session["spent_hashes"] == [hash_refresh_token(pair.refresh_token)]  # spent once
    assert session["refresh_hash"] == hash_refresh_token(outcomes[0].refresh_token)
    refresh_session(TokenRefresh(refresh_token=outcomes[0].refresh_token))


@pytest.mark.usefixtures("store", "serialized_store")
def test_concurrent_refreshes_of_one_token_without_grace_exactly_one_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFRESH_REUSE_GRACE_SECONDS", "0")
    config.clear_caches()
    _user()
    pair = _login()

    outcomes = _together(8, lambda: refresh_session(TokenRefresh(refresh_token=pair.refresh_token)))

    winners = [o for o in outcomes if isinstance(o, Token)]
    assert len(winners) == 1
    assert all(isinstance(o, Unauthorized) for o in outcomes if not isinstance(o, Token))
    # The losers presented a token spent by then: the strict reading of RFC 9700 ends the session.
    session = get_database().sessions.find_one()
    assert session["end_reason"] == "reuse"
    assert session["spent_hashes"] == [session["spent_hashes"][0]]
    with pytest.raises(Unauthorized):
        refresh_session(TokenRefresh(refresh_token=winners[0].refresh_token))


@pytest.mark.usefixtures("store", "serialized_store")
def test_concurrent_wrong_logins_get_at_most_max_failures_401s() -> None:
    _user()

    outcomes = _together(20, lambda: _login(password="wrong password"))

    assert sum(isinstance(o, Unauthorized) for o in outcomes) == 5
    assert sum(isinstance(o, TooManyRequests) for o in outcomes) == 15
    assert get_database().login_attempts.find_one({"_id": f"ada@example.com {ADDRESS}"})["count"] == 20
    assert get_database().login_attempts.find_one({"_id": "ada@example.com"})["count"] == 5


@pytest.mark.usefixtures("store", "serialized_store")
def test_concurrent_first_attempts_share_one_window() -> None:
    window = timedelta(minutes=15)

    outcomes = _together(10, lambda: LoginAttemptRepository().reserve("ada@example.com", window=window))

    assert sorted(count for count, _ in outcomes) == list(range(1, 11))
    assert len({ends for _, ends in outcomes}) == 1


@pytest.mark.usefixtures("store", "serialized_store")
def test_concurrent_password_changes_exactly_one_wins() -> None:
    user_id = _user()
    changes = [PasswordChange(current_password=PASSWORD, new_password=f"new password {i}") for i in range(6)]
    pending = iter(enumerate(changes))
    take = threading.Lock()

    def change() -> Token:
        with take:
            i, data = next(pending)
        # Each from its own address: six checks from one would pass its limit of failed checks (a 429).
        return change_password(user_id, "the caller", data, client_address=f"198.51.100.{i}")

    outcomes = _together(len(changes), change)

    assert sum(isinstance(o, Token) for o in outcomes) == 1
    assert all(isinstance(o, BadRequest) for o in outcomes if not isinstance(o, Token))


def test_expired_attempt_window_left_by_the_ttl_monitor_is_replaced() -> None:
    now = datetime.now(UTC)
    get_database().login_attempts.insert_one({"_id": "ada@example.com", "count": 9, "expires_at": now})

    count, ends = LoginAttemptRepository().reserve("ada@example.com", window=timedelta(minutes=15), now=now)

    assert count == 1
    assert ends == now + timedelta(minutes=15)


def test_new_session_after_a_password_change_is_valid_and_older_ones_are_not() -> None:
    user_id = _user()
    before = _login()
    changed = change_password(
        user_id,
        "the caller",
        PasswordChange(current_password=PASSWORD, new_password="another password"),
        client_address=ADDRESS,
    )
    user = get_database().users.find_one({"_id": user_id})

    for token, valid in ((before, False), (changed, True)):
        sid = SessionRepository().rotate(token.refresh_token, successor=new_refresh_token())
        assert (sid is not None) == valid
        if sid is not None:
            assert session_is_valid(sid[1], user)


_T2, _T3 = datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("session", "user", "valid"),
    [
        ({"user_id": "u", "created_at": _T2}, {"_id": "u", "is_active": True}, True),
        ({"user_id": "u", "created_at": _T2}, {"_id": "u", "is_active": True, "sessions_valid_after": _T2}, True),
        ({"user_id": "u", "created_at": _T2}, {"_id": "u", "is_active": True, "sessions_valid_after": _T3}, False),
        ({"user_id": "u", "created_at": _T2}, {"_id": "u", "is_active": False}, False),
        ({"user_id": "u", "created_at": _T2}, {"_id": "v", "is_active": True}, False),
        ({"user_id": "u", "created_at": _T2}, None, False),
        # Malformed documents are refused, never an error.
        ({"user_id": "u"}, {"_id": "u", "is_active": True}, False),
        ({"user_id": "u", "created_at": "2026-01-02"}, {"_id": "u", "is_active": True}, False),
        ({"user_id": "u", "created_at": _T2}, {"_id": "u", "is_active": True, "sessions_valid_after": "x"}, False),
        ({"user_id": "u", "created_at": _T2}, {"_id": "u", "is_active": "yes"}, False),
        ({"user_id": "u", "created_at": _T2}, {"_id": "u"}, False),
    ],
)
def test_session_is_valid(session: dict, user: dict | None, valid: bool) -> None:
    assert session_is_valid(session, user) is valid


def _deletion_steps(user_id: str) -> list[Callable[[], Any]]:
    """``delete_account``'s writes that matter here, in its order, to interleave with a prompt's creation."""
    return [
        lambda: UserRepository().mark_deleting(user_id, session_id="s", sessions_valid_after=utcnow()),
        lambda: PromptRepository().delete_all(user_id),
        lambda: SessionRepository().delete_all(user_id),
        lambda: UserRepository().remove_tombstone(user_id),
    ]


@pytest.mark.parametrize(
    ("deleted_before_insert", "deleted_before_check"),
    [(insert, check) for insert in range(5) for check in range(insert, 5)],
)
def test_no_interleaving_of_create_prompt_and_account_deletion_leaves_an_orphan(
    monkeypatch: pytest.MonkeyPatch, deleted_before_insert: int, deleted_before_check: int
) -> None:
    """Creation is (insert, check the owner); deletion is (tombstone, prompts, sessions, user). However the
    two interleave (the numbers: deletion steps done before the insert, before the check), once
    both are done no prompt of the user is left."""
    user_id = _user()
    steps = _deletion_steps(user_id)
    done = 0

    def run_until(count: int) -> None:
        nonlocal done
        while done < count:
            steps[done]()
            done += 1

    real_create, real_is_active = PromptRepository.create, UserRepository.is_active

    def create(self: PromptRepository, *args: Any, **kwargs: Any) -> Any:
        run_until(deleted_before_insert)
        return real_create(self, *args, **kwargs)

    def is_active(self: UserRepository, *args: Any) -> bool:
        run_until(deleted_before_check)
        return real_is_active(self, *args)

    monkeypatch.setattr(PromptRepository, "create", create)
    monkeypatch.setattr(UserRepository, "is_active", is_active)

    try:
        create_owned_prompt(user_id, PromptCreate(content="racing"))
        succeeded = True
    except Unauthorized:
        succeeded = False
    run_until(4)

    assert succeeded == (deleted_before_check == 0)
    assert get_database().prompts.count_documents({}) == 0


def test_delete_account_failing_halfway_is_dead_at_once_and_finished_by_its_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user_id = _user()
    pair = _login()
    create_owned_prompt(user_id, PromptCreate(content="mine"))

    def fail(self: SessionRepository, user_id: str) -> int:
        raise ServiceUnavailable("Database unavailable")

    monkeypatch.setattr(SessionRepository, "delete_all", fail)
    with pytest.raises(ServiceUnavailable):
        delete_account(user_id, "the caller", AccountDeletion(password=PASSWORD), client_address=ADDRESS)
    assert get_database().prompts.count_documents({}) == 0
    assert UserRepository().get_by_email("ada@example.com") is None  # no login, no recovery
    with pytest.raises(Unauthorized):
        refresh_session(TokenRefresh(refresh_token=pair.refresh_token))

    monkeypatch.undo()
    delete_account(user_id, "the caller", AccountDeletion(password="not even checked"), client_address=ADDRESS)

    assert {name: get_database()[name].count_documents({}) for name in ("users", "sessions", "prompts")} == {
        "users": 0,
        "sessions": 0,
        "prompts": 0,
    }


def test_deactivation_ends_every_session_at_once() -> None:
    user_id = _user()
    first, second = _login(), _login()

    assert deactivate(user_id) is True

    for pair in (first, second):
        with pytest.raises(Unauthorized):
            refresh_session(TokenRefresh(refresh_token=pair.refresh_token))
    assert {s["end_reason"] for s in get_database().sessions.find()} == {"deactivated"}
    assert deactivate("no-such-user") is False


def test_login_whose_password_changed_before_its_session_started_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    user_id = _user()
    real_start = SessionRepository.start

    def start_after_a_change(self: SessionRepository, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(SessionRepository, "start", real_start)
        change_password(
            user_id,
            "the caller",
            PasswordChange(current_password=PASSWORD, new_password="changed meanwhile"),
            client_address=ADDRESS,
        )
        return real_start(self, *args, **kwargs)

    monkeypatch.setattr(SessionRepository, "start", start_after_a_change)

    with pytest.raises(Unauthorized):
        _login()

    live = [s for s in get_database().sessions.find({"ended_at": None})]
    assert len(live) == 1  # only the password change's own session
    assert {s["end_reason"] for s in get_database().sessions.find({"ended_at": {"$ne": None}})} == {"revoked"}


def test_login_whose_password_changed_after_its_check_has_its_session_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    user_id = _user()
    real_has_password = UserRepository.has_password
    sessions_before_change: list[str] = []

    def change_right_after(self: UserRepository, *args: Any) -> bool:
        result = real_has_password(self, *args)
        sessions_before_change.extend(s["_id"] for s in get_database().sessions.find())
        change_password(
            user_id,
            "the caller",
            PasswordChange(current_password=PASSWORD, new_password="changed meanwhile"),
            client_address=ADDRESS,
        )
        return result

    monkeypatch.setattr(UserRepository, "has_password", change_right_after)

    late = _login()

    monkeypatch.undo()
    with pytest.raises(Unauthorized):
        refresh_session(TokenRefresh(refresh_token=late.refresh_token))
    (late_session,) = sessions_before_change
    assert get_database().sessions.find_one({"_id": late_session})["end_reason"] == "password_change"


def test_login_racing_another_logins_rehash_still_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    user_id = _user()
    monkeypatch.setenv("BCRYPT_ROUNDS", "5")
    config.clear_caches()
    real_replace = UserRepository.replace_password

    def lose_to_a_concurrent_rehash(
        self: UserRepository, user: str, *, old_hash: str, new_hash: str, **kw: Any
    ) -> bool:
        assert real_replace(self, user, old_hash=old_hash, new_hash=hash_password(PASSWORD, rounds=5))
        return real_replace(self, user, old_hash=old_hash, new_hash=new_hash, **kw)

    monkeypatch.setattr(UserRepository, "replace_password", lose_to_a_concurrent_rehash)

    pair = _login()

    assert pair.refresh_token
    assert get_database().sessions.find_one({"user_id": user_id})["ended_at"] is None


def test_a_session_keeps_only_its_latest_spent_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sessions_module, "SPENT_HASHES_KEPT", 3)
    _user()
    tokens = [_login().refresh_token]
    for _ in range(4):
        tokens.append(refresh_session(TokenRefresh(refresh_token=tokens[-1])).refresh_token)

    session = get_database().sessions.find_one()

    assert session["spent_hashes"] == [hash_refresh_token(t) for t in tokens[1:4]]
    with pytest.raises(Unauthorized):  # too old to be recognised: refused, the session goes on
        refresh_session(TokenRefresh(refresh_token=tokens[0]))
    assert get_database().sessions.find_one()["ended_at"] is None
    with pytest.raises(Unauthorized):  # recent enough: reuse, the session ends
        refresh_session(TokenRefresh(refresh_token=tokens[1]))
    assert get_database().sessions.find_one()["end_reason"] == "reuse"
