"""The database an operator's command works on (``make indexes``, ``make migrate-seed``, ``make account``),
checked before the command does anything, so that a bad setting or a database that is not there ends it
with one line on stderr and an exit status, never a traceback:

- a database setting the settings refuse (``MONGODB_TIMEOUT_MS=abc``), no URI, or a URI the driver
  refuses (its syntax or options, an SRV name that does not resolve): UsageError, one line naming the
  variable (exit status 2);
- then one ping, bounded by the ping timeout (``MONGODB_PING_TIMEOUT_MS``, 2 s): a database that is
  down, unreachable or refusing (a wrong password) ends the command after about that long, with one line
  saying what happened (Unreachable, exit status 1). Only then does the work start, with the command's
  own, longer timeouts: ``OPERATOR_TIMEOUT_MS`` for the commands with a client of their own
  (``operator_database``), the functions' for ``make account``, which runs their code on their client
  (``functions_database``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pymongo.database import Database

OPERATOR_TIMEOUT_MS = 10_000  # a person waits; a failover has time to finish
EXIT_UNREACHABLE = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Raised when the command cannot start: the settings say no database, or say it wrongly (exit 2)."""


class Unreachable(Exception):
    """Raised when the database does not answer the first ping within the ping timeout, or refuses it (exit 1)."""


def one_line(text: str) -> str:
    """``text`` on one line, its runs of white space (newlines included) one space each."""
    return " ".join(text.split())


def _why(error: Exception, database: Database[Any], seconds: float, bound: str) -> str:
    """What the failed ping says, in a few words: the servers' own errors where the driver kept them."""
    from pymongo.errors import OperationFailure, PyMongoError

    descriptions = database.client.topology_description.server_descriptions()
    hosts = ", ".join(f"{host}:{port}" for host, port in descriptions) or "MONGODB_URI"
    if isinstance(error, OperationFailure):
        details = error.details or {}
        name = details.get("codeName") or error.code
        return f"the database at {hosts} refused: {name}: {details.get('errmsg') or error}"
    if isinstance(error, PyMongoError) and error.timeout:
        seen = "; ".join(str(d.error) for d in descriptions.values() if d.error is not None)
        return (
            f"the database did not answer a ping within {seconds:g} s ({bound}): "
            f"{seen or f'{type(error).__name__} from {hosts}'}"
        )
    return f"the database at {hosts} cannot be reached: {type(error).__name__}: {error}"


def check_reachable(command: str, database: Database[Any]) -> None:
    """One ping, bounded by the ping timeout (``pymongo.timeout``: server selection, connecting and the
    answer, all within it); Unreachable, one line saying why, when it fails."""
    from pymongo.errors import PyMongoError

    from shared.config import database_settings
    from shared.data.ping import ping

    settings = database_settings()
    seconds = settings.ping_timeout_s
    try:
        ping(database)
    except PyMongoError as e:
        shorter = settings.mongodb_timeout_ms < settings.mongodb_ping_timeout_ms
        bound = "MONGODB_TIMEOUT_MS" if shorter else "MONGODB_PING_TIMEOUT_MS"
        raise Unreachable(one_line(f"{command}: {_why(e, database, seconds, bound)}")) from None


def _usage_error(command: str, error: Exception) -> UsageError:
    """A settings error (it names its variable) or the driver refusing the URI, as a UsageError."""
    from pymongo import errors as mongo_errors

    if isinstance(error, mongo_errors.ConfigurationError):  # bad syntax or options, an SRV name that does not resolve
        return UsageError(one_line(f"{command}: MONGODB_URI: {error}"))
    return UsageError(one_line(f"{command}: {error}"))


@contextmanager
def operator_database(command: str, *, purpose: str) -> Iterator[Database[Any]]:
    """The database at MONGODB_URI (or the secret at MONGODB_URI_SECRET_ARN), named MONGODB_DB_NAME, for
    ``command`` to work on (``purpose`` says what it is, in the message when there is none), reached with a
    client of the command's own (never the functions' cached one) and answering a ping: UsageError naming
    what to set, Unreachable. The client is closed when the block ends."""
    from pymongo import MongoClient
    from pymongo import errors as mongo_errors

    from shared.config import database_settings, mongodb_uri
    from shared.errors import ConfigurationError

    try:
        name = database_settings().mongodb_db_name
        uri = mongodb_uri()
    except ConfigurationError as e:
        raise _usage_error(command, e) from None
    if not uri:
        raise UsageError(f"{command}: set MONGODB_URI to {purpose}")
    appname = "prompt-api-" + command.removeprefix("make ")
    try:
        client: MongoClient[dict[str, Any]] = MongoClient(
            uri, appname=appname, tz_aware=True, serverSelectionTimeoutMS=OPERATOR_TIMEOUT_MS
        )
    except mongo_errors.ConfigurationError as e:
        raise _usage_error(command, e) from None
    try:
        database = client[name]
        check_reachable(command, database)
        yield database
    finally:
        client.close()


@contextmanager
def functions_database(command: str, *, purpose: str) -> Iterator[Database[Any]]:
    """The functions' own database (``shared.data.client.get_database()``, the cached client with the
    functions' timeouts), for a command that runs their code, checked as ``operator_database`` checks its
    own: UsageError naming what to set (``purpose`` says what the database is), Unreachable. The client
    stays for the process (it is the container's)."""
    from pymongo import errors as mongo_errors

    from shared.data.client import NOT_CONFIGURED, get_database
    from shared.errors import ConfigurationError, ServiceUnavailable

    try:
        database = get_database()
    except (ConfigurationError, mongo_errors.ConfigurationError) as e:
        raise _usage_error(command, e) from None
    except ServiceUnavailable as e:
        if e.detail == NOT_CONFIGURED:
            raise UsageError(f"{command}: set MONGODB_URI (and MONGODB_DB_NAME) to {purpose}") from None
        raise
    check_reachable(command, database)
    yield database
