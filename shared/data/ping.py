"""Whether the database answers: the health route's one ping on the container's client.

Apart from ``shared.data.client`` because ``pymongo.timeout`` is defined by pymongo's package
``__init__``, which every other function's init leaves unrun (``shared.coldstart``): importing it here
runs that ``__init__`` in the health function's init, not on its first request.
"""

from __future__ import annotations

from typing import Any

from pymongo import timeout
from pymongo.database import Database

from shared.config import database_settings
from shared.data.client import get_client, translate_errors
from shared.errors import ServiceUnavailable


def ping(database: Database[Any]) -> None:
    """One ping of ``database``, bounded by the ping timeout (MONGODB_PING_TIMEOUT_MS): ``pymongo.timeout``
    bounds it all, server selection included, and leaves the client's own timeouts to every other
    operation. Raises the driver's error when it fails."""
    with timeout(database_settings().ping_timeout_s):
        database.command("ping")


def is_available() -> bool:
    """Whether the database answers one ping within the ping timeout, on the container's client."""
    try:
        with translate_errors():
            ping(get_client().admin)
    except ServiceUnavailable:
        return False
    return True
