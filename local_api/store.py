"""The embedded store: one mongomock client shared by every function, kept on disk.

After each request that may have written, every collection is dumped with
``bson.json_util`` to one file, written, synced and renamed over the old one; it is loaded
again on start, so a restart loses nothing. Indexes are not stored: they are created when the
store is installed as the functions' database (``project.DatabaseHook``), as a deploy creates them
in AWS.

TTL indexes behave as on a server: mongomock itself deletes an expired document the moment its
collection is read, while a server keeps it until its TTL monitor passes (every 60 seconds, or later
under load), so the code meets expired-but-stored documents and must filter them out itself.
:func:`server_like_client` is a mongomock client that keeps them until :func:`ttl_pass`; the local API
runs a pass once a minute (:meth:`EmbeddedStore.expire_due`), the tests when they say so.

One server at a time owns a data directory: :class:`DataDirLock` (an OS lock on
``<data_dir>/lock``, held while the server runs) makes a second one refuse to start rather
than overwrite the first one's writes with its own older snapshot.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from types import TracebackType
from typing import Any

import mongomock
import mongomock.store
from bson import json_util
from bson.json_util import JSONMode, JSONOptions

from local_api.project import DatabaseHook

logger = logging.getLogger(__name__)

STORE_FILE = "store.json"
LOCK_FILE = "lock"
FORMAT_VERSION = 1
_JSON_OPTIONS = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True, tzinfo=UTC)
_SYSTEM_PREFIX = "system."


TTL_MONITOR_SECONDS = 60.0  # a server's TTL monitor runs this often (ttlMonitorSleepSecs)


class _TtlOnPassCollection(mongomock.store.CollectionStore):
    """A mongomock collection whose TTL indexes delete only in a TTL pass, as a server's monitor does.

    mongomock calls ``_remove_expired_documents`` before every read (``find``, ``count``, a lookup by
    ``_id``...); here that does nothing, and :meth:`ttl_pass` runs mongomock's own expiry once.
    """

    def _remove_expired_documents(self) -> None:
        """Reads leave expired documents in place (a server's reads do too)."""

    def ttl_pass(self) -> int:
        """Delete the documents the collection's TTL indexes say have expired; how many."""
        before = len(self._documents)
        super()._remove_expired_documents()  # type: ignore[no-untyped-call]  # mongomock is unannotated
        return before - len(self._documents)


class _TtlOnPassDatabase(mongomock.store.DatabaseStore):
    def __getitem__(self, name: str) -> Any:
        if name not in self._collections:
            self._collections[name] = _TtlOnPassCollection(name)  # type: ignore[no-untyped-call]
        return self._collections[name]

    def rename(self, name: str, new_name: str) -> None:
        collection = self._collections.pop(name, None) or _TtlOnPassCollection(new_name)  # type: ignore[no-untyped-call]
        collection.name = new_name
        self._collections[new_name] = collection


class _TtlOnPassServer(mongomock.store.ServerStore):
    def __getitem__(self, name: str) -> Any:
        if name not in self._databases:
            self._databases[name] = _TtlOnPassDatabase()  # type: ignore[no-untyped-call]
        return self._databases[name]


def server_like_client() -> Any:
    """A mongomock client (``tz_aware``, as the functions' client) whose TTL indexes wait for :func:`ttl_pass`."""
    return mongomock.MongoClient(tz_aware=True, _store=_TtlOnPassServer())  # type: ignore[no-untyped-call]


def ttl_pass(client: Any) -> int:
    """One pass of the TTL monitor over every collection of ``client`` (a :func:`server_like_client`):
    the expired documents are deleted now; the number deleted."""
    server: _TtlOnPassServer = client._store
    return sum(
        collection.ttl_pass()
        for database in list(server._databases.values())
        for collection in list(database._collections.values())
    )


class StoreError(RuntimeError):
    """Raised when the store file on disk cannot be read back."""


class DataDirBusy(StoreError):
    """Raised when another local API already serves from the same data directory."""


class DataDirLock:
    """An exclusive OS lock (``flock``) on ``<data_dir>/lock``: one server per data directory.

    The operating system drops the lock when the process ends, however it ends, so a crashed
    server never leaves a stale lock behind. The file holds the owner's pid, for the message.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise DataDirBusy saying who holds it and what to do instead."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            by = f" (pid {owner})" if owner.isdigit() else ""
            raise DataDirBusy(
                f"{self.data_dir} is in use by another local API{by}: stop that one, "
                "or start this one with --data-dir <another dir> or --in-memory"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Let the next server have the data directory (idempotent)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


class EmbeddedStore:
    """A mongomock client, with its data in ``<data_dir>/store.json`` unless in memory."""

    def __init__(self, data_dir: Path | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = data_dir / STORE_FILE if data_dir is not None else None
        self.client: Any = server_like_client()
        self._hook = DatabaseHook()
        self._clock = clock
        self._last_ttl_pass: float | None = None

    def load(self) -> int:
        """Read the stored documents back; the number of documents loaded."""
        if self.path is None or not self.path.is_file():
            return 0
        try:
            data = json_util.loads(self.path.read_text(encoding="utf-8"), json_options=_JSON_OPTIONS)
        except ValueError as e:
            raise StoreError(f"{self.path} is not a store file ({e}); move it away or use --in-memory") from e
        count = 0
        for db_name, collections in data.get("databases", {}).items():
            for name, documents in collections.items():
                if documents:
                    self.client[db_name][name].insert_many(documents)
                    count += len(documents)
        return count

    def snapshot(self) -> dict[str, Any]:
        """Every document of every collection, by database and collection name."""
        databases: dict[str, Any] = {}
        for db_name in self.client.list_database_names():
            db = self.client[db_name]
            databases[db_name] = {
                name: list(db[name].find({}))
                for name in sorted(db.list_collection_names())
                if not name.startswith(_SYSTEM_PREFIX)
            }
        return {"version": FORMAT_VERSION, "databases": databases}

    def save(self) -> None:
        """Write the snapshot to a temporary file, sync it to disk, then rename it over the store
        file (and sync the directory, so the rename itself survives a power cut)."""
        if self.path is None:
            return
        text = json_util.dumps(self.snapshot(), json_options=_JSON_OPTIONS, indent=1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".store-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _sync_directory(self.path.parent)

    def expire_due(self) -> int:
        """The TTL monitor: a pass when none ran in the last ``TTL_MONITOR_SECONDS`` (the first call runs
        one); called before each invocation. The number of documents deleted."""
        now = self._clock()
        if self._last_ttl_pass is not None and now - self._last_ttl_pass < TTL_MONITOR_SECONDS:
            return 0
        self._last_ttl_pass = now
        return ttl_pass(self.client)

    def install(self) -> None:
        """Make this store the functions' database (again, when a reload made new modules)."""
        self._hook.install(self.client)

    def describe(self) -> str:
        """Where the data lives, for the start banner."""
        return "in memory (--in-memory)" if self.path is None else str(self.path)


def _sync_directory(path: Path) -> None:
    """fsync a directory where the platform allows it (not on Windows, say)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
