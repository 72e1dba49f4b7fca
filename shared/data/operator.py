"""The database an operator's command works on (``make indexes``, ``make migrate-seed``): the one the
database settings name, reached with a client of the command's own, never the functions' cached one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pymongo.database import Database

OPERATOR_TIMEOUT_MS = 10_000  # a person waits; a failover has time to finish


class UsageError(Exception):
    """Raised when the command cannot start: the settings say no database, or say it wrongly (exit 2)."""


@contextmanager
def operator_database(command: str, *, purpose: str) -> Iterator[Database[Any]]:
    """The database at MONGODB_URI (or the secret at MONGODB_URI_SECRET_ARN), named MONGODB_DB_NAME, for
    ``command`` to work on (``purpose`` says what it is, in the message when there is none); UsageError
    naming what to set. The client is closed when the block ends."""
    from pymongo import MongoClient

    from shared.config import database_settings, mongodb_uri
    from shared.errors import ConfigurationError

    try:
        name = database_settings().mongodb_db_name
        uri = mongodb_uri()
    except ConfigurationError as e:
        raise UsageError(f"{command}: {e}") from None
    if not uri:
        raise UsageError(f"{command}: set MONGODB_URI to {purpose}")
    appname = "prompt-api-" + command.removeprefix("make ")
    client: MongoClient[dict[str, Any]] = MongoClient(
        uri, appname=appname, tz_aware=True, serverSelectionTimeoutMS=OPERATOR_TIMEOUT_MS
    )
    try:
        yield client[name]
    finally:
        client.close()
