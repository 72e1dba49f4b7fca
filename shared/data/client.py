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

from pymongo import MongoClient
from pymongo import errors as mongo_errors
from pymongo.database import Database

from shared.config import database_settings, mongodb_uri
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
            timeout_ms = database_settings().mongodb_timeout_ms
            # MongoDB's guidance for Lambda (https://www.mongodb.com/docs/atlas/manage-connections-aws-lambda/):
            # one client per container, created outside the handler and reused (this module), and
            # maxIdleTimeMS=60000, so that a pooled connection idle for a minute is closed rather than
            # reused after Lambda froze the container and Atlas or a NAT gateway silently dropped it.
            # maxPoolSize=2: a container runs one request at a time and the handlers are synchronous,
            # so one connection does the work; the second keeps a cursor still open (pinned to its
            # connection behind a load balancer) from stalling the next operation. The driver's 100
            # would let each container hold many connections to a cluster whose limit is shared by
            # every container. minPoolSize stays 0: no connection is opened ahead of use. Retryable
            # reads and writes (the driver's default, stated here) retry once after a network error,
            # which is what a connection dropped while the container was frozen looks like.
            _client = MongoClient(
                uri,
                appname="prompt-api",
                tz_aware=True,
                maxIdleTimeMS=60_000,
                maxPoolSize=2,
                retryReads=True,
                retryWrites=True,
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


def get_database() -> Database[Document]:
    """The application's database. No I/O: its indexes exist already (``shared.data.indexes``)."""
    global _database
    if _database is None:
        _database = get_client()[database_settings().mongodb_db_name]
    return _database


def is_available() -> bool:
    """Whether the database answers a ping within the server-selection timeout."""
    try:
        with translate_errors():
            get_client().admin.command("ping")
    except ServiceUnavailable:
        return False
    return True
