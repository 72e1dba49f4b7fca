"""What the local API knows about this project, and nowhere else in ``local_api``.

The rest of the tool serves any SAM template (the tests also run it on a fixture template whose
functions know nothing of ``shared``). Here are the project's names and its doors into the
layer's package: typed imports, so that a rename in ``shared`` fails in mypy, not at
``make start-api``. The imports sit inside functions on purpose: hot reload drops ``shared``
and ``shared.*`` from ``sys.modules`` after an edit, and an ``import`` statement run again
finds the fresh modules where a module object kept from the start would be stale.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymongo import MongoClient

    from shared.data.client import Document

NAME = "Prompt API"
SERVER_NAME = "prompt-api-local"  # the Server header
LAYER_PACKAGE = "shared"  # the layer's package: watched for edits, purged on reload
JWT_SECRET = "JWT_SECRET"  # noqa: S105 - the variable's name
MONGODB_URI = "MONGODB_URI"

API_DESCRIPTION = (
    "Register and log in (bcrypt + JWT), then create, list, read, update and delete your own prompts; "
    "record status checks; ask for health. Protected routes take `Authorization: Bearer <token>` "
    'from `POST /api/login`. Every error body is `{"detail": ...}`.'
)
API_TAGS: tuple[tuple[str, str], ...] = (  # name, description; in the order a reader meets them
    ("auth", "Register, log in for a bearer token, and read your own account."),
    ("prompts", "Your own prompts: create, list, read, update, delete (bearer token)."),
    ("status", "Status checks any client may record and list."),
    ("health", "Is the API up, and can it reach its database?"),
)


def version(root: Path) -> str:
    """``shared.__version__`` of the project at ``root`` (the OpenAPI document's version)."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    import shared

    return shared.__version__


def clear_settings_cache() -> None:
    """``shared.config.get_settings`` caches the environment it read: drop it after a change."""
    try:
        from shared import config
    except ModuleNotFoundError:
        return  # a template whose functions do not use the layer
    config.get_settings.cache_clear()


def set_correlation_id(request_id: str) -> None:
    """Every log line of the next invocation carries ``request_id`` as its correlation id.

    In one process every function logs through the same Powertools logger (one per service name), whose
    keys outlive an invocation: the authorizer, which sets no correlation id of its own (its TOKEN event
    has no request id), printed the previous request's. Set here for every invocation, it is the request's
    id; the route functions then set the same one from their event. (In Lambda the authorizer's lines
    have none.)
    """
    try:
        from aws_lambda_powertools import Logger
    except ModuleNotFoundError:
        return  # a template whose functions do not use Powertools
    Logger().set_correlation_id(request_id)


class DatabaseHook:
    """Hands one client to the layer through ``shared.data.client.use_client``, and again after a reload.

    Hot reload imports a new ``shared.data.client`` that has no client yet; ``install()`` notices and
    installs it there too. On each install it also creates the indexes (``shared.data.indexes``) in the
    functions' database, as a deploy does in AWS: the functions themselves never create them.
    """

    def __init__(self) -> None:
        self._installed_in: object | None = None

    def install(self, client: MongoClient[Document]) -> None:
        """Make ``client``, with its indexes, the database of the functions (where no MONGODB_URI is set)."""
        try:
            from shared.data import client as db
            from shared.data.indexes import ensure_indexes
            from shared.errors import ConfigurationError
        except ModuleNotFoundError:
            return  # a template whose functions do not use the layer
        if db is self._installed_in:
            return
        db.use_client(client)
        self._installed_in = db
        try:
            database = db.get_database()
        except ConfigurationError:
            return  # the functions report it themselves, naming the variable
        ensure_indexes(database)
