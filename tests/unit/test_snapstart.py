"""SnapStart's runtime hooks (``shared.snapstart``): every function's init gives them to Lambda's runtime
library, and running them as the runtime does (before the snapshot, after a restore) leaves a container
that connects anew, reads its secrets again and draws its own random numbers. Init itself connects to
nothing and reads no secret, so the snapshot holds neither even without the hooks.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import snapshot_restore_py
from moto import mock_aws
from pymongo.errors import InvalidOperation

from shared import config
from shared.data import client as db
from tests.support import app_path, in_fresh_process

STACK_SECRET = "generated-by-the-stack-0123456789abcdefghijklmnopqrstuvwxyz"
ROTATED_SECRET = "rotated-while-the-snapshot-waited-0123456789abcdefghijkl"
UNREACHABLE = "mongodb://127.0.0.1:9/?directConnection=true"


def before_snapshot() -> None:
    """What Lambda's runtime does before it takes the snapshot: each registered hook, last first."""
    for func, args, kwargs in reversed(snapshot_restore_py._before_snapshot_registry):
        func(*args, **kwargs)


def after_restore() -> None:
    """What Lambda's runtime does in each container it restores: each registered hook, in order."""
    for func, args, kwargs in snapshot_restore_py._after_restore_registry:
        func(*args, **kwargs)


HOOKS = {"before the snapshot": before_snapshot, "after a restore": after_restore}

_REGISTERED = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
import snapshot_restore_py as hooks
names = lambda registry: [f"{func.__module__}.{func.__qualname__}" for func, _, _ in registry]
print(json.dumps([names(hooks._before_snapshot_registry), names(hooks._after_restore_registry)]))
"""


@pytest.mark.parametrize("function", ["authorizer", "me", "preflight", "sweeper"])
def test_init_gives_the_runtime_one_hook_before_the_snapshot_and_one_after_each_restore(function: str) -> None:
    assert in_fresh_process(_REGISTERED, app_path(function)) == [
        ["shared.snapstart.before_snapshot"],
        ["shared.snapstart.after_restore"],
    ]


def test_without_the_runtimes_library_init_runs_and_registers_nothing() -> None:
    code = "import sys\nsys.modules['snapshot_restore_py'] = None\n" + _REGISTERED.replace(
        "import snapshot_restore_py as hooks", "print(json.dumps('loaded')); raise SystemExit"
    )
    assert in_fresh_process(code, app_path("me")) == "loaded"


_INIT_ONLY = """
import gc, importlib.util, json, sys
from pymongo import MongoClient
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
clients = [o for o in gc.get_objects() if isinstance(o, MongoClient)]
print(json.dumps([len(clients), "boto3" in sys.modules]))
"""


@pytest.mark.parametrize("function", ["authorizer", "login", "me"])
def test_init_inside_lambda_opens_no_connection_and_reads_no_secret(function: str) -> None:
    """What a snapshot would hold of them: nothing. Both secrets come from Secrets Manager, as in AWS;
    reading either would import boto3 (and fail: no credentials here)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_LAMBDA_FUNCTION_NAME": f"prompt-api-{function}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "JWT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf",
        "MONGODB_URI_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:uri-AbCdEf",
    }
    assert in_fresh_process(_INIT_ONLY, app_path(function), env=env) == [0, False]


@pytest.mark.parametrize("hook", HOOKS)
def test_the_hooks_close_the_mongodb_client_and_the_next_request_makes_a_new_one(
    hook: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGODB_URI", UNREACHABLE)
    config.clear_caches()
    first = db.get_client()

    HOOKS[hook]()
    second = db.get_client()

    assert second is not first
    with pytest.raises(InvalidOperation):
        first.admin.command("ping")  # closed: no socket of it survives into the snapshot or a restore


@pytest.fixture
def secretsmanager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("JWT_SECRET")
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="jwt", SecretString=STACK_SECRET)["ARN"]
        monkeypatch.setenv("JWT_SECRET_ARN", arn)
        config.forget_secrets()
        yield client


@pytest.mark.parametrize("hook", HOOKS)
def test_after_the_hooks_the_secrets_are_read_again(hook: str, secretsmanager: Any) -> None:
    read = config.jwt_secret()
    secretsmanager.put_secret_value(SecretId="jwt", SecretString=ROTATED_SECRET)
    cached = config.jwt_secret()

    HOOKS[hook]()

    assert (read, cached) == (STACK_SECRET, STACK_SECRET)  # Powertools' cache, SECRETS_MAX_AGE long
    assert config.jwt_secret() == ROTATED_SECRET


def test_a_restored_container_draws_its_own_random_numbers() -> None:
    random.seed(42)  # as if the snapshot carried one state to every container
    in_the_snapshot = random.getstate()

    after_restore()

    assert random.getstate() != in_the_snapshot
