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
from shared.errors import DatabaseRefused, ServiceUnavailable
from shared.snapstart import per_container

logger = logging.getLogger(__name__)

Document = dict[str, Any]
T = TypeVar("T")

_client: MongoClient[Document] | None = None
_database: Database[Document] | None = None
_installed: MongoClient[Document] | None = None

NOT_CONFIGURED = "Database not configured: set MONGODB_URI"

# The client's timeouts, from three numbers:
# - a primary election: MongoDB's manual says the median time to elect a new primary "should not
#   typically exceed 12 seconds" with default settings, detection of the lost primary included
#   (https://www.mongodb.com/docs/manual/core/replica-set-elections/), and an Atlas "test failover"
#   measured by a MongoDB driver engineer spent 11.95 s in server selection. During one, the write in
#   flight fails (the old primary steps down and closes its connections, or stops answering) and the
#   driver's one retry waits in server selection for the new primary: the server-selection timeout (MONGODB_TIMEOUT_MS,
#   default 15 s) covers an election with margin, so a failover is a slower request, not a 503;
# - the function's timeout: one request's worst case in a failover is a stalled operation
#   (SOCKET_TIMEOUT_MS, 5 s) plus the retry's server selection (15 s) plus the request's own work
#   (bcrypt, the other operations, fast again on the new primary): about 21 s, so the functions need
#   a Timeout of 25 s (template.yaml Globals). With a shorter one, Lambda may stop the function first
#   and the client gets API Gateway's 502 instead of the 503 {"detail"}: MONGODB_TIMEOUT_MS plus
#   SOCKET_TIMEOUT_MS plus a second must fit in the Timeout (with 10 s, MONGODB_TIMEOUT_MS=4000);
# - API Gateway's integration timeout, 29 s: the ceiling of the function's Timeout (past it, the
#   caller gets the gateway's 504 whatever the function answers later).
# A database that is down altogether is a 503 after the server-selection timeout. Connecting to a
# reachable member takes well under a second (TCP and TLS), so a connection attempt (and a server
# check by the monitor) gives up after CONNECT_TIMEOUT_MS; an operation waits for its answer at most
# SOCKET_TIMEOUT_MS (every query is indexed and small; the index builds of a deploy have their own
# pymongo.timeout, functions/indexes).
#
# Health is the exception: load balancers and uptime monitors give a check 2 to 5 s, and 15 s of
# server selection would read as the API being down rather than as a 503 "degraded". Its one ping
# (shared/data/ping.py, is_available) runs under pymongo.timeout(MONGODB_PING_TIMEOUT_MS, default 2 s, never more than
# MONGODB_TIMEOUT_MS): pymongo's client-side operation timeout bounds everything the ping does, server
# selection (which then waits the time left in place of serverSelectionTimeoutMS: in pymongo 4.20,
# topology_shared.get_server_selection_timeout, so a longer block would also wait longer), connecting
# and the wait for the answer, on this same cached client, for this one call only. The operator
# commands ping the same way before their work (shared/data/operator.py). Measured on a closed port,
# a port that drops SYNs and a server that never answers: health answers its 503 after 2.0 s instead
# of 15.0 s, make account gives up after 2.0 s instead of 15.0 s (README, Timeouts).
CONNECT_TIMEOUT_MS = 5_000
SOCKET_TIMEOUT_MS = 5_000

_UNAVAILABLE = (
    mongo_errors.ConnectionFailure,  # includes ServerSelectionTimeoutError, AutoReconnect, NetworkTimeout
    mongo_errors.ExecutionTimeout,
    mongo_errors.WriteConcernError,
    mongo_errors.ConfigurationError,  # for example an SRV record that does not resolve
)


# Server errors that say the database cannot be used as configured, whatever the request: wrong
# credentials in the URI (a rotated password, a removed database user) and a database user without the
# rights the functions need. The operator's to fix, so a 503 to the client, with the code in the log.
_REFUSED_CODES = frozenset({DatabaseRefused.UNAUTHORIZED, DatabaseRefused.AUTHENTICATION_FAILED})


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn the driver's "cannot reach the database" errors, and its refusals of the configured
    credentials or rights, into ServiceUnavailable."""
    try:
        yield
    except mongo_errors.PyMongoError as e:
        if isinstance(e, _UNAVAILABLE) or e.timeout:
            logger.error("Database unavailable: %s", type(e).__name__)
            raise ServiceUnavailable("Database unavailable") from e
        if isinstance(e, mongo_errors.OperationFailure) and e.code in _REFUSED_CODES:
            logger.error("Database refused the functions' user: %s code %s", type(e).__name__, e.code)
            code_name = str((e.details or {}).get("codeName") or e.code)
            reason = " ".join(f"{type(e).__name__}: {e}".split())
            raise DatabaseRefused("Database unavailable", code=e.code, code_name=code_name, reason=reason) from e
        raise


# Errors after which the retryable-writes specification has a driver retry a write: a network error
# or a "not primary" / "node is recovering" answer (AutoReconnect: NotPrimaryError is one, with codes
# such as 10107 NotWritablePrimary and 189 PrimarySteppedDown), or a server error with these codes or
# the RetryableWriteError label. ServerSelectionTimeoutError is an AutoReconnect too, but it is not
# retried: no server was found within the whole timeout, and a second wait would only double it.
_RETRYABLE_WRITE_CODES = frozenset({6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436})


def _retryable_write_error(e: mongo_errors.PyMongoError) -> bool:
    if isinstance(e, mongo_errors.ServerSelectionTimeoutError):
        return False
    if isinstance(e, mongo_errors.AutoReconnect):
        return True
    if isinstance(e, mongo_errors.OperationFailure):
        return e.code in _RETRYABLE_WRITE_CODES or e.has_error_label("RetryableWriteError")
    return False


def retry_once(write: Callable[[], T]) -> T:
    """``write()``, run once more after an error the driver would have retried a retryable write for.

    For update_many and delete_many, which pymongo sends once whatever happens: without this, a
    connection dropped after the server applied a password change's "end every session" or an account
    deletion's "remove every prompt" would be a 503 for a change that happened. Only for writes whose
    second run leaves the database as the first one did (end what is still live, delete what is still
    there). The result is the last run's: after a retry, counts do not include what the first run did.
    """
    try:
        return write()
    except mongo_errors.PyMongoError as e:
        if not _retryable_write_error(e):
            raise
        logger.warning("Retrying an idempotent write once after %s", type(e).__name__)
    return write()


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
            # reads and writes (the driver's default, stated here) retry a read, or a single-document
            # write (insert_one, update_one, replace_one, delete_one, find_one_and_*), once after a
            # network error or a "not primary" answer: a connection dropped while the container was
            # frozen, or a primary that stepped down. The driver never retries update_many or
            # delete_many (a multi-document write is not a retryable write): the repositories run
            # those, all idempotent, through retry_once() below.
            _client = MongoClient(
                uri,
                appname="prompt-api",
                tz_aware=True,
                maxIdleTimeMS=60_000,
                maxPoolSize=2,
                retryReads=True,
                retryWrites=True,
                serverSelectionTimeoutMS=timeout_ms,  # the timeouts: see CONNECT_TIMEOUT_MS above
                connectTimeoutMS=min(timeout_ms, CONNECT_TIMEOUT_MS),
                socketTimeoutMS=SOCKET_TIMEOUT_MS,
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


@per_container
def disconnect() -> None:
    """Close and forget the container's client and database: the next ``get_client()`` makes a new one
    (an installed client stays installed). A container restored from a SnapStart snapshot starts so."""
    global _client, _database
    if _client is not None and _client is not _installed:
        _client.close()
    _client, _database = None, None


def get_database() -> Database[Document]:
    """The application's database. No I/O: its indexes exist already (``shared.data.indexes``)."""
    global _database
    if _database is None:
        _database = get_client()[database_settings().mongodb_db_name]
    return _database
