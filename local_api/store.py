"""The embedded store: one mongomock client shared by every function, kept on disk.

After each request that may have written, every collection is dumped with
``bson.json_util`` to one file, replaced atomically; it is loaded
again on start, so a restart loses nothing. Indexes are not stored: the functions recreate
them on their first use of the database.
"""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import UTC
from pathlib import Path
from typing import Any

import mongomock
from bson import json_util
from bson.json_util import JSONMode, JSONOptions

from local_api.project import DatabaseHook

logger = logging.getLogger(__name__)

STORE_FILE = "store.json"
FORMAT_VERSION = 1
_JSON_OPTIONS = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True, tzinfo=UTC)
_SYSTEM_PREFIX = "system."


class StoreError(RuntimeError):
    """Raised when the store file on disk cannot be read back."""


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
        """Write the snapshot to a temporary file, then rename it over the store file."""
        if self.path is None:
            return
        text = json_util.dumps(self.snapshot(), json_options=_JSON_OPTIONS, indent=1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".store-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def install(self) -> None:
        """Make this store the functions' database (again, when a reload made new modules)."""
        self._hook.install(self.client)

    def describe(self) -> str:
        """Where the data lives, for the start banner."""
        return "in memory (--in-memory)" if self.path is None else str(self.path)
