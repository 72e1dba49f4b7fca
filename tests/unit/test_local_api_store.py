"""The local API's embedded store: one server per data directory, and saves that survive a crash."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from local_api.environment import EnvironmentPlan, EnvironmentSwitcher
from local_api.runtime import FunctionRuntime
from local_api.store import TTL_MONITOR_SECONDS, DataDirBusy, DataDirLock, EmbeddedStore
from local_api.template import Application, Function
from shared.data import client as db


def test_second_lock_on_one_data_dir_is_refused_with_what_to_do(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with DataDirLock(data_dir):
        with pytest.raises(DataDirBusy) as refused:
            DataDirLock(data_dir).acquire()
        owner = (data_dir / "lock").read_text().strip()

    message = str(refused.value)
    assert message == (
        f"{data_dir} is in use by another local API (pid {os.getpid()}): stop that one, "
        "or start this one with --data-dir <another dir> or --in-memory"
    )
    assert "\n" not in message
    assert owner == str(os.getpid())


def test_released_lock_lets_the_next_server_in(tmp_path: Path) -> None:
    first = DataDirLock(tmp_path)
    first.acquire()
    first.release()
    first.release()  # idempotent

    with DataDirLock(tmp_path) as second:
        assert second.path == tmp_path / "lock"


def test_other_data_dirs_are_not_locked(tmp_path: Path) -> None:
    with DataDirLock(tmp_path / "one"), DataDirLock(tmp_path / "two") as other:
        assert other.path.is_file()


def test_save_syncs_the_file_before_renaming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EmbeddedStore(tmp_path)
    store.client["db"]["things"].insert_one({"_id": "a"})
    calls: list[str] = []
    fsync, replace = os.fsync, os.replace

    def recording_fsync(fd: int) -> None:
        calls.append("fsync " + ("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"))
        fsync(fd)

    def recording_replace(source: str, target: Path) -> None:
        calls.append("replace")
        replace(source, target)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)

    store.save()

    assert calls == ["fsync file", "replace", "fsync dir"]
    assert [p.name for p in tmp_path.iterdir()] == ["store.json"]


def test_saved_documents_load_into_a_new_store(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.client["db"]["things"].insert_many([{"_id": "a", "n": 1}, {"_id": "b", "n": 2}])
    store.save()

    again = EmbeddedStore(tmp_path)

    assert again.load() == 2
    assert list(again.client["db"]["things"].find({}, sort=[("_id", 1)])) == [
        {"_id": "a", "n": 1},
        {"_id": "b", "n": 2},
    ]


def test_install_makes_the_store_the_functions_database(tmp_path: Path) -> None:
    store = EmbeddedStore(None)
    store.client["emergent_db"]["status_checks"].insert_one({"_id": "x"})

    store.install()

    assert db.get_database().status_checks.find_one({}) == {"_id": "x"}


def test_expired_documents_stay_until_the_stores_ttl_monitor_passes_once_a_minute() -> None:
    now = [1000.0]
    store = EmbeddedStore(None, clock=lambda: now[0])
    sessions = store.client["emergent_db"]["sessions"]
    sessions.create_index("expires_at", expireAfterSeconds=0)
    past = datetime.now(UTC) - timedelta(seconds=1)

    first = store.expire_due()  # a fresh server's monitor runs soon after start
    sessions.insert_one({"_id": "expired", "expires_at": past})
    within_the_minute = store.expire_due()
    still_stored = sessions.count_documents({"_id": "expired"})
    now[0] += TTL_MONITOR_SECONDS
    a_minute_later = store.expire_due()

    assert (first, within_the_minute, still_stored) == (0, 0, 1)
    assert a_minute_later == 1
    assert sessions.count_documents({}) == 0


def test_each_invocation_first_lets_the_stores_ttl_monitor_run_when_due(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return {'statusCode': 200}\n")
    function = Function("Fn", tmp_path, "app.handler", 128, 3, {})
    template = Application(tmp_path, {"Fn": function}, {}, [], {})
    store = EmbeddedStore(None)
    runtime = FunctionRuntime(
        template,
        EnvironmentSwitcher(EnvironmentPlan({"Fn": {}}, frozenset())),
        store,
        region="us-east-1",
        account_id="123456789012",
        hot_reload=False,
    )
    sessions = store.client["emergent_db"]["sessions"]
    sessions.create_index("expires_at", expireAfterSeconds=0)
    sessions.insert_one({"_id": "expired", "expires_at": datetime.now(UTC) - timedelta(seconds=1)})

    answer = runtime.invoke("Fn", {}, request_id="r-1", may_write=False)

    assert answer == {"statusCode": 200}
    assert sessions.count_documents({}) == 0
