"""``make secrets ENV=...``: what a first deploy of ENV needs outside its stack, created or checked.

An operator's tool, never in the layer (it is no part of the local API: ``local_api/`` is the home of the
project's development tools). For the environment's stack (``samconfig.toml``):

- the MongoDB URI secret, with ``MongoAuth=password`` (the default): ``prompt-api/<env>/mongodb-uri``.
  It is checked when it exists (a value, and a ``mongodb://`` or ``mongodb+srv://`` one: the value is
  never printed), created otherwise from ``MONGODB_URI`` or, at a terminal, from a prompt that does not
  echo (never from an argument: shell history). ``--kms-key-id`` encrypts a new one with a
  customer-managed key (the template's ``SecretsKmsKeyArn``). The JWT signing secret is not here: the
  stack generates it.
- with ``MongoAuth=iam``, no secret: it prints the ARN of the role the stack will create, which the
  Atlas database user names (create the user before the first deploy: its index step connects).
- API Gateway's CloudWatch Logs role, an account setting of the region that the stage's access log
  needs: checked, and when the account has none, created (a role trusted by apigateway.amazonaws.com
  with ``AmazonAPIGatewayPushToCloudWatchLogs``) and set. An existing setting is never changed.

It prints the ``parameter_overrides`` entries to put in ``samconfig.toml`` and the sections that hold
them. Exit status 0 when everything is in place, 1 when something is missing or wrong (with
``--check``, nothing is created), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shlex
import sys
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMCONFIG = ROOT / "samconfig.toml"
URI_SCHEMES = ("mongodb://", "mongodb+srv://")
API_GATEWAY_LOGS_ROLE = "prompt-api-apigateway-cloudwatch-logs"
API_GATEWAY_LOGS_POLICY = "arn:{partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
# A new role takes a few seconds to be usable by API Gateway (IAM is eventually consistent).
ROLE_RETRIES = 10


class Problem(Exception):
    """Raised when a prerequisite is missing or wrong and cannot be (or may not be) fixed here."""


@dataclass(frozen=True, slots=True)
class Environment:
    """A deploy environment of samconfig.toml: its stack and the sections holding its parameters."""

    name: str
    stack_name: str
    parameters: dict[str, str]
    sections: tuple[str, ...]


def read_environment(name: str, samconfig: Path = SAMCONFIG) -> Environment:
    config: dict[str, Any] = tomllib.loads(samconfig.read_text(encoding="utf-8"))
    if name not in config or "deploy" not in config[name]:
        raise Problem(f"samconfig.toml has no [{name}.deploy.parameters]")
    sections = tuple(f"[{name}.{command}.parameters]" for command in ("deploy", "sync") if command in config[name])
    raw = config[name]["deploy"]["parameters"].get("parameter_overrides", "")
    parameters = dict(item.split("=", 1) for item in shlex.split(raw))
    stack_name = config[name].get("global", {}).get("parameters", {}).get("stack_name", "")
    return Environment(name=name, stack_name=stack_name, parameters=parameters, sections=sections)


def secret_name(environment: str) -> str:
    return f"prompt-api/{environment}/mongodb-uri"


def ensure_uri_secret(
    secrets: Any, name: str, *, uri: Callable[[], str | None], kms_key_id: str | None, create: bool
) -> tuple[str, bool]:
    """The URI secret's ARN, and whether it was created now. ``uri`` gives the value for a new one."""
    try:
        described = secrets.describe_secret(SecretId=name)
    except secrets.exceptions.ResourceNotFoundException:
        described = None
    if described is not None:
        try:
            value = secrets.get_secret_value(SecretId=name).get("SecretString") or ""
        except secrets.exceptions.ResourceNotFoundException:
            value = ""  # the secret exists without a current value
        if not value.strip().startswith(URI_SCHEMES):
            raise Problem(f"secret {name} holds no MongoDB connection string (mongodb:// or mongodb+srv://)")
        return str(described["ARN"]), False
    if not create:
        raise Problem(f"secret {name} does not exist (make secrets without --check creates it)")
    value = (uri() or "").strip()
    if not value:
        raise Problem(f"secret {name} does not exist: set MONGODB_URI to its connection string, or run at a terminal")
    if not value.startswith(URI_SCHEMES):
        raise Problem("MONGODB_URI is not a MongoDB connection string (mongodb:// or mongodb+srv://)")
    options = {"KmsKeyId": kms_key_id} if kms_key_id else {}
    created = secrets.create_secret(
        Name=name, SecretString=value, Description="MongoDB connection string of Prompt API", **options
    )
    return str(created["ARN"]), True


def ensure_api_gateway_logs_role(
    apigateway: Any, iam: Any, *, create: bool, sleep: Callable[[float], None] = time.sleep
) -> tuple[str, bool]:
    """The account's CloudWatch Logs role for API Gateway, and whether it was set now."""
    current = apigateway.get_account().get("cloudwatchRoleArn")
    if current:
        return str(current), False
    if not create:
        raise Problem(
            "API Gateway has no CloudWatch Logs role in this account and region: the stage's access log fails"
        )
    try:
        role = iam.get_role(RoleName=API_GATEWAY_LOGS_ROLE)["Role"]
    except iam.exceptions.NoSuchEntityException:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        role = iam.create_role(
            RoleName=API_GATEWAY_LOGS_ROLE,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description="API Gateway writes CloudWatch Logs (account setting, make secrets)",
        )["Role"]
    partition = str(role["Arn"]).split(":")[1]
    iam.attach_role_policy(
        RoleName=API_GATEWAY_LOGS_ROLE, PolicyArn=API_GATEWAY_LOGS_POLICY.format(partition=partition)
    )
    operation = [{"op": "replace", "path": "/cloudwatchRoleArn", "value": role["Arn"]}]
    for attempt in range(ROLE_RETRIES):
        try:
            apigateway.update_account(patchOperations=operation)
            break
        except apigateway.exceptions.BadRequestException:
            if attempt == ROLE_RETRIES - 1:
                raise
            sleep(3)  # "The role ARN does not have required permissions" until IAM has propagated it
    return str(role["Arn"]), True


def prompt_for_uri() -> str | None:
    if not sys.stdin.isatty():
        return None
    return getpass.getpass("MongoDB connection string (not echoed): ")


def run(
    environment: Environment,
    *,
    session: Any,
    create: bool,
    kms_key_id: str | None,
    uri: Callable[[], str | None],
    out: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Check (and unless ``create`` is false, create) the prerequisites; 0 if all are in place, else 1."""
    problems = []
    overrides = []
    out(f"{environment.name}: stack {environment.stack_name}, region {session.region_name}")
    if environment.parameters.get("MongoAuth", "password") == "iam":
        account = session.client("sts").get_caller_identity()["Account"]
        out(
            f"  MongoAuth=iam: no URI secret. The Atlas database user (AWS IAM, role) names "
            f"arn:aws:iam::{account}:role/{environment.stack_name}-functions (output FunctionRoleArn)"
        )
    else:
        name = secret_name(environment.name)
        try:
            arn, made = ensure_uri_secret(
                session.client("secretsmanager"), name, uri=uri, kms_key_id=kms_key_id, create=create
            )
            out(f"  MongoDB URI secret: {arn} ({'created' if made else 'exists, holds a MongoDB URI'})")
            if environment.parameters.get("MongoDbUriSecretArn") != arn:
                overrides.append(f"MongoDbUriSecretArn={arn}")
        except Problem as e:
            problems.append(str(e))
    try:
        role, made = ensure_api_gateway_logs_role(
            session.client("apigateway"), session.client("iam"), create=create, sleep=sleep
        )
        out(f"  API Gateway CloudWatch Logs role: {role} ({'created and set' if made else 'set'})")
    except Problem as e:
        problems.append(str(e))
    out("  The JWT signing secret: generated by the stack (output JwtSecretArn).")
    if overrides:
        out(f"Put in samconfig.toml's parameter_overrides of {' and '.join(environment.sections)}:")
        out("  " + " ".join(overrides))
    for problem in problems:
        out(f"make secrets: {problem}")
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    parser = argparse.ArgumentParser(prog="make secrets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True, help="the samconfig.toml environment (dev, prod)")
    parser.add_argument("--check", action="store_true", help="create nothing, only check")
    parser.add_argument("--kms-key-id", help="customer-managed KMS key for a new URI secret")
    args = parser.parse_args(argv)
    import boto3  # an operator's session; --help needs no boto3

    try:
        environment = read_environment(args.env)
    except Problem as e:
        print(f"make secrets: {e}", file=sys.stderr)
        return 2
    return run(
        environment,
        session=boto3.session.Session(),
        create=not args.check,
        kms_key_id=args.kms_key_id,
        uri=lambda: environ.get("MONGODB_URI") or prompt_for_uri(),
        out=print,
    )


if __name__ == "__main__":
    sys.exit(main())
