"""The local API's one door into the layer's package ``shared``, and the names of this project it uses.

The rest of the tool serves any SAM template (the tests also run it on a sample application whose
functions know nothing of ``shared``; a test holds that no other module of ``local_api`` imports
it). Here are the layer package's name (watched for edits, purged on reload), the variables the tool
provides when the developer does not, the Server header, and the doors into the layer (its settings,
its database client): typed imports, so that a rename in ``shared`` fails in mypy, not at
``make start-api``. The imports sit inside functions on purpose: hot reload drops ``shared`` and
``shared.*`` from ``sys.modules`` after an edit, and an ``import`` statement run again finds the fresh
modules where a module object kept from the start would be stale. The API's title, tags and OpenAPI
document are the contract's (``contract``), which only the docs page and the banner import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymongo import MongoClient

    from shared.data.client import Document
    from shared.mail.mailer import Mailer

SERVER_NAME = "prompt-api-local"  # the Server header
LAYER_PACKAGE = "shared"  # the layer's package: watched for edits, purged on reload
JWT_SECRET = "JWT_SECRET"  # noqa: S105 - the variable's name
MONGODB_URI = "MONGODB_URI"


def clear_settings_cache() -> None:
    """``shared.config``'s settings groups cache the environment they read: drop them after a change."""
    try:
        from shared import config
    except ModuleNotFoundError:
        return  # a template whose functions do not use the layer
    config.clear_caches()


def settings_variables() -> tuple[str, ...]:
    """Every environment variable the layer's settings read (``shared.config.VARIABLES``)."""
    from shared import config

    return config.VARIABLES


def process_wide_variables() -> tuple[str, ...]:
    """The variables the layer reads into state that every function of one process shares: the
    database settings, which ``shared.data.client`` reads once into its one client and database."""
    try:
        from shared import config
    except ModuleNotFoundError:
        return ()  # a template whose functions do not use the layer
    return config.variables_of(config.DatabaseSettings)


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


class _OncePerLayerModule:
    """Remembers the layer module a hook last installed into: hot reload imports a new one, which gets
    the install again; the same one never twice."""

    def __init__(self) -> None:
        self._installed_in: object | None = None

    def first_time(self, module: object) -> bool:
        """Whether ``module`` has not had the install yet (and from now on counts as having had it)."""
        if module is self._installed_in:
            return False
        self._installed_in = module
        return True


class DatabaseHook(_OncePerLayerModule):
    """Hands one client to the layer through ``shared.data.client.use_client``, and again after a reload.

    Hot reload imports a new ``shared.data.client`` that has no client yet; ``install()`` notices and
    installs it there too. On each install it also creates the indexes (``shared.data.indexes``) in the
    functions' database, as a deploy does in AWS: the functions themselves never create them.
    """

    def install(self, client: MongoClient[Document]) -> None:
        """Make ``client``, with its indexes, the database of the functions (where no MONGODB_URI is set)."""
        try:
            from shared.data import client as db
            from shared.data.indexes import ensure_indexes
            from shared.errors import ConfigurationError
        except ModuleNotFoundError:
            return  # a template whose functions do not use the layer
        if not self.first_time(db):
            return
        db.use_client(client)
        try:
            database = db.get_database()
        except ConfigurationError:
            return  # the functions report it themselves, naming the variable
        ensure_indexes(database)


class MailHook(_OncePerLayerModule):
    """Hands the mail stand-in to the layer through ``shared.mail.mailer.use_mailer``, and again after a
    reload (a new ``shared.mail.mailer`` has no mailer yet): the functions' mail goes there, not to SES."""

    def install(self, mailer: Mailer) -> None:
        """Make ``mailer`` the functions' mailer (outside Lambda the layer uses an installed one)."""
        try:
            from shared.mail import mailer as mail
        except ModuleNotFoundError:
            return  # a template whose functions do not use the layer
        if self.first_time(mail):
            mail.use_mailer(mailer)
