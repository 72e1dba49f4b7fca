"""The MongoDB client: created lazily once per container and reused by every request.

The client connects to MONGODB_URI (or the URI in MONGODB_URI_SECRET_ARN's secret). Outside
Lambda, a tool or a test may instead install a client of its own through ``use_client()``
(the local API installs its embedded store that way), and ``reset()`` forgets everything as
a fresh container would. Nothing here knows what such a client is; with neither a URI nor an
installed client, the database is unavailable and says which variable to set.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo import errors as mongo_errors
from pymongo.database import Database

from shared.config import get_settings, mongodb_uri
from shared.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

Document = dict[str, Any]
T = TypeVar("T")

_client: MongoClient[Document] | None = None
_database: Database[Document] | None = None
_installed: MongoClient[Document] | None = None

NOT_CONFIGURED = "Database not configured: set MONGODB_URI"

_UNAVAILABLE = (
    mongo_errors.ConnectionFailure,  # includes ServerSelectionTimeoutError, AutoReconnect, NetworkTimeout
    mongo_errors.ExecutionTimeout,
    mongo_errors.WriteConcernError,
    mongo_errors.ConfigurationError,  # for example an SRV record that does not resolve
)


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn the driver's "cannot reach the database" errors into ServiceUnavailable."""
    try:
        yield
    except mongo_errors.PyMongoError as e:
        if isinstance(e, _UNAVAILABLE) or e.timeout:
            logger.error("Database unavailable: %s", type(e).__name__)
            raise ServiceUnavailable("Database unavailable") from e
        raise


def translated(func: Callable[..., T]) -> Callable[..., T]:
    """Decorator form of translate_errors for repository methods."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with translate_errors():
            return func(*args, **kwargs)

    return wrapper


def get_client() -> MongoClient[Document]:
    """The container's client; constructing it does no I/O, the first operation connects.

    Without a configured URI it is the client installed with ``use_client()``; with neither,
    ServiceUnavailable (a 503 ``{"detail"}``) saying to set MONGODB_URI.
    """
    global _client
    if _client is None:
        uri = mongodb_uri()
        if uri is None:
            if _installed is None:
                logger.error("No database: set MONGODB_URI (or MONGODB_URI_SECRET_ARN)")
                raise ServiceUnavailable(NOT_CONFIGURED)
            _client = _installed
        else:
            timeout_ms = get_settings().mongodb_timeout_ms
            _client = MongoClient(
                uri,
                appname="prompt-api",
                tz_aware=True,
                serverSelectionTimeoutMS=timeout_ms,
                connectTimeoutMS=timeout_ms,
                socketTimeoutMS=4 * timeout_ms,  # a stuck operation still ends before the function's timeout
            )
    return _client


def use_client(client: MongoClient[Document]) -> None:
    """Install ``client`` as the database wherever no MongoDB URI is configured.

    For development tools and tests, never Lambda (where a URI is required): the local API
    installs its embedded store here, the tests an in-memory one. A configured URI still wins.
    The next ``get_client()`` picks the installed client up; it stays until ``reset()``.
    """
    global _client, _database, _installed
    _client, _database, _installed = None, None, client


def reset() -> None:
    """Close and forget the client, the database and any installed client (a fresh container)."""
    global _client, _database, _installed
    if _client is not None:
        _client.close()
    _client, _database, _installed = None, None, None


def ensure_indexes(db: Database[Document]) -> None:
    """Create the indexes the queries rely on; idempotent, so safe on every cold start."""
    db.users.create_index([("email", ASCENDING)], unique=True, name="email_unique")
    db.prompts.create_index(
        [("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
        name="user_newest_first",
    )
    db.status_checks.create_index([("timestamp", DESCENDING), ("_id", DESCENDING)], name="newest_first")
    db.sessions.create_index([("refresh_hash", ASCENDING)], unique=True, name="refresh_hash_unique")
    db.sessions.create_index([("spent_hashes", ASCENDING)], name="spent_hashes")  # multikey
    db.sessions.create_index([("user_id", ASCENDING)], name="user")
    db.sessions.create_index([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires")
    db.login_attempts.create_index([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires")


def get_database() -> Database[Document]:
    """The application's database, with its indexes ensured once per container."""
    global _database
    if _database is None:
        db = get_client()[get_settings().mongodb_db_name]
        with translate_errors():
            ensure_indexes(db)
        _database = db
    return _database


def is_available() -> bool:
    """Whether the database answers a ping within the server-selection timeout."""
    try:
        with translate_errors():
            get_client().admin.command("ping")
    except ServiceUnavailable:
        return False
    return True
