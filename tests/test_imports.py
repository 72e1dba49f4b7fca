"""What each function imports at init: a cold start pays for every module, so each imports only what
its route uses. Checked on the module set, never on timings (``benchmarks/cold_start.py`` times them).

One fresh interpreter per function, with the test environment (JWT_SECRET set, no MONGODB_URI) and the
layer's packages: the development tools bring ``cryptography`` (PyJWT's optional backend, which imports
bcrypt for SSH keys), the layer does not install it, so it is made unimportable here as it is there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache

import pytest

from tests.support import FUNCTIONS_DIR, TEST_JWT_SECRET, app_path, in_fresh_process

FUNCTIONS = sorted(p.parent.name for p in FUNCTIONS_DIR.glob("*/app.py"))

# Which of the two costly security packages each function needs at init: bcrypt to hash or check a
# password, PyJWT to sign or check access tokens (shared.accounts.access_tokens). Ending sessions (log
# out, delete the account) and spending a refresh token need neither.
SECURITY_IMPORTS: dict[str, set[str]] = {
    "authorizer": {"jwt"},
    "change_password": {"bcrypt", "jwt"},
    "create_prompt": set(),
    "create_status_check": set(),
    "delete_me": {"bcrypt"},
    "delete_prompt": set(),
    "forgot_password": set(),
    "get_prompt": set(),
    "health": set(),
    "indexes": set(),
    "list_prompts": set(),
    "list_status_checks": set(),
    "login": {"bcrypt", "jwt"},
    "logout": set(),
    "me": set(),
    "preflight": set(),
    "refresh_token": {"jwt"},
    "register": {"bcrypt"},
    "sweeper": set(),
    "reset_password": {"bcrypt"},
    "update_me": set(),
    "update_prompt": set(),
}

MAILING = {"forgot_password"}
"""The functions that send mail (SES): their init loads the mail door (``shared.mail.mailer``); SES's module
and boto3 wait for the container's first request, which creates the client whatever the email."""

NEVER_AT_INIT = {
    "mongomock",  # the tests' in-memory database
    "boto3",  # only when a secret is read from Secrets Manager, and on a mailing function's first request
    "shared.mail.ses",
    "local_api",  # the development server
    "contract",  # the OpenAPI and event-fixture generators
    "shared.data.migrate_seed",  # the operator's conversion of a seed database (make migrate-seed)
    "aws_lambda_powertools.utilities.idempotency",  # unused: a keyed write derives its id (shared/prompts)
    "pymongo_auth_aws",  # pymongo's aws extra: only when a connection authenticates with MONGODB-AWS
}
# MongoAuth=iam's connection string (template.yaml, MongoDbUri): nothing is imported for it at init.
IAM_URI = "mongodb://127.0.0.1:9/?authSource=%24external&authMechanism=MONGODB-AWS"

_SCRIPT = """
import importlib.util, json, sys
sys.modules["cryptography"] = None  # not in the layer: importing it fails there
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
print(json.dumps(sorted(sys.modules)))
"""


@cache
def loaded_at_init(function: str, mongodb_uri: str | None = None) -> frozenset[str]:
    """The modules (and their packages) loaded once ``functions/<function>/app.py`` has run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "PYTHON"))}
    env["JWT_SECRET"] = TEST_JWT_SECRET
    if mongodb_uri:
        env["MONGODB_URI"] = mongodb_uri
    modules: list[str] = in_fresh_process(_SCRIPT, app_path(function), env=env)
    return frozenset(modules)


def test_every_function_is_listed() -> None:
    assert sorted(SECURITY_IMPORTS) == FUNCTIONS


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_imports_bcrypt_and_pyjwt_only_when_it_uses_them(function: str) -> None:
    loaded = loaded_at_init(function)

    assert {"bcrypt", "jwt"} & loaded == SECURITY_IMPORTS[function]


# The parts of libraries that no function's first request uses, which their packages' __init__ would load
# (shared.coldstart defers those): every other resolver and event class of Powertools, PyJWT's JWKS
# client with its HTTP stack, pymongo's asyncio client.
_RESOLVERS = ("appsync", "bedrock_agent", "bedrock_agent_function", "events_appsync", "graphql_appsync")
_RESOLVERS += ("http_resolver", "lambda_function_url", "vpc_lattice")
_EVENTS = ("appsync_resolver_event", "code_pipeline_job_event", "dynamo_db_stream_event", "sqs_event")
UNUSED_LIBRARY_PARTS = {
    *(f"aws_lambda_powertools.event_handler.{name}" for name in _RESOLVERS),
    *(f"aws_lambda_powertools.utilities.data_classes.{name}" for name in _EVENTS),
    *("jwt.jwks_client", "urllib.request", "http.client"),
}
PYMONGO_ASYNC = "pymongo.asynchronous.mongo_client"
RUN_PYMONGOS_INIT = {"health", "indexes"}
"""Functions whose init runs pymongo's package ``__init__`` (and so loads its asyncio client): they call
``pymongo.timeout``, which only that ``__init__`` defines (health's ping; the deploy's index builds)."""
DEPLOY_ONLY = {"indexes"}
"""The custom resource of a deploy, never on a user's path: it imports ``urllib.request`` to answer
CloudFormation."""


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_imports_no_test_or_development_code(function: str) -> None:
    assert NEVER_AT_INIT.isdisjoint(loaded_at_init(function))


@pytest.mark.parametrize("function", sorted(set(FUNCTIONS) - DEPLOY_ONLY))
def test_function_loads_no_part_of_a_library_its_requests_do_not_use(function: str) -> None:
    assert sorted(UNUSED_LIBRARY_PARTS & loaded_at_init(function)) == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_only_the_functions_that_call_pymongo_timeout_load_pymongos_asyncio_client(function: str) -> None:
    assert (PYMONGO_ASYNC in loaded_at_init(function)) == (function in RUN_PYMONGOS_INIT)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_only_the_functions_that_mail_load_the_mail_code_and_none_loads_boto3_at_init(function: str) -> None:
    loaded = loaded_at_init(function)

    assert ("shared.mail.mailer" in loaded) == (function in MAILING)
    assert {"boto3", "shared.mail.ses"}.isdisjoint(loaded)


def test_authorizer_imports_no_resolver_request_models_or_password_code() -> None:
    """Its cold start is on the path of every uncached protected call: keep its import set lean."""
    loaded = loaded_at_init("authorizer")

    assert {"shared.accounts.authorize", "shared.accounts.sessions"} <= loaded
    forbidden = {"pydantic", "bcrypt", "shared.models", "shared.accounts.models", "shared.accounts.passwords"}
    forbidden |= {"shared.http.resolver", "shared.accounts.login", "shared.accounts.users", "shared.prompts.prompts"}
    forbidden |= {"aws_lambda_powertools.event_handler.api_gateway", "aws_lambda_powertools.utilities.data_classes"}
    assert forbidden.isdisjoint(loaded)


@pytest.mark.parametrize("function", ["create_prompt", "update_me", "logout"])
def test_account_writes_that_take_no_password_import_no_password_code(function: str) -> None:
    assert {"shared.accounts.passwords", "shared.accounts.reauthenticate"}.isdisjoint(loaded_at_init(function))


@pytest.mark.parametrize("function", ["authorizer", "me", "create_prompt"])
def test_iam_auth_imports_nothing_more_at_init(function: str) -> None:
    assert loaded_at_init(function, IAM_URI) == loaded_at_init(function)


_AUTHENTICATE = """
import json, sys
from pymongo import MongoClient
from pymongo.synchronous.auth_aws import _authenticate_aws

client = MongoClient(sys.argv[1], connect=False)
loaded = ["pymongo_auth_aws" in sys.modules]


class Refused(Exception):
    pass


class Connection:  # the server's side of the SASL conversation: refused at its first step
    max_wire_version = 25

    def command(self, *args, **kwargs):
        raise Refused()


try:
    _authenticate_aws(client.options.pool_options._credentials, Connection())
except Refused:
    pass
print(json.dumps(loaded + ["pymongo_auth_aws" in sys.modules]))
"""


def test_pymongo_imports_its_aws_extra_only_to_authenticate_a_connection() -> None:
    # MONGODB-AWS signs with the Lambda role's credentials, which Lambda puts in the environment.
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x", "AWS_SESSION_TOKEN": "y"}
    done = subprocess.run(
        [sys.executable, "-c", _AUTHENTICATE, IAM_URI], env=env, capture_output=True, text=True, check=True, timeout=60
    )

    assert json.loads(done.stdout) == [False, True]  # not for a client, only for its connection's handshake
