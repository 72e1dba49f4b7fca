"""The embedded store: one mongomock client shared by every function, kept on disk.

After each request that may have written, every collection is dumped with
``bson.json_util`` to one file, written, synced and renamed over the old one; it is loaded
again on start, so a restart loses nothing. Indexes are not stored: they are created when the
store is installed as the functions' database (``project.DatabaseHook``), as a deploy creates them
in AWS.

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
from datetime import UTC
from pathlib import Path
from types import TracebackType
from typing import Any

import mongomock
from bson import json_util
from bson.json_util import JSONMode, JSONOptions

from local_api.project import DatabaseHook

logger = logging.getLogger(__name__)

STORE_FILE = "store.json"
LOCK_FILE = "lock"
FORMAT_VERSION = 1
_JSON_OPTIONS = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True, tzinfo=UTC)
_SYSTEM_PREFIX = "system."


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

    def __init__(self, data_dir: Path | None) -> None:
        self.path = data_dir / STORE_FILE if data_dir is not None else None
        self.client: Any = mongomock.MongoClient(tz_aware=True)
        self._hook = DatabaseHook()

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
