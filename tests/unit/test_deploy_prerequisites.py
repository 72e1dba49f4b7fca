"""make secrets (local_api/deploy_prerequisites.py): Secrets Manager and IAM through moto; API Gateway's
account setting through botocore's Stubber, which holds the exact requests the tool sends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from local_api import deploy_prerequisites as prerequisites

REGION = "eu-west-1"
URI = "mongodb+srv://app:s3cret@cluster0.abcde.mongodb.net/?retryWrites=true"
LOGS_ROLE = "arn:aws:iam::123456789012:role/existing-apigateway-logs"


class Session:
    """What run() takes of a boto3 session: the region and clients, API Gateway's stubbed."""

    region_name = REGION

    def __init__(self, apigateway: Any) -> None:
        self.apigateway = apigateway

    def client(self, service: str) -> Any:
        if service == "apigateway":
            return self.apigateway
        return boto3.client(service, region_name=REGION)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    # AmazonAPIGatewayPushToCloudWatchLogs is an AWS managed policy: moto knows them when asked to.
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        yield


@pytest.fixture
def apigateway() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("apigateway", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def environment(**parameters: str) -> prerequisites.Environment:
    return prerequisites.Environment(
        name="dev",
        stack_name="prompt-api-dev",
        parameters=parameters,
        sections=("[dev.deploy.parameters]", "[dev.sync.parameters]"),
    )


def run(apigateway: Any, lines: list[str], *, create: bool = True, uri: str | None = URI, **parameters: str) -> int:
    return prerequisites.run(
        environment(**parameters),
        session=Session(apigateway),
        create=create,
        kms_key_id=None,
        uri=lambda: uri,
        out=lines.append,
        sleep=lambda _: None,
    )


@pytest.mark.usefixtures("aws")
def test_creates_the_uri_secret_and_prints_its_arn_for_samconfig(apigateway: tuple[Any, Stubber]) -> None:
    client, stubber = apigateway
    stubber.add_response("get_account", {"cloudwatchRoleArn": LOGS_ROLE})
    lines: list[str] = []

    status = run(client, lines)

    secrets = boto3.client("secretsmanager", region_name=REGION)
    stored = secrets.get_secret_value(SecretId="prompt-api/dev/mongodb-uri")
    assert status == 0
    assert stored["SecretString"] == URI
    assert f"MongoDbUriSecretArn={stored['ARN']}" in lines[-1]
    assert "[dev.deploy.parameters] and [dev.sync.parameters]" in lines[-2]
    assert not [line for line in lines if "s3cret" in line]  # the value is never printed


@pytest.mark.usefixtures("aws")
def test_an_existing_uri_secret_is_checked_not_replaced(apigateway: tuple[Any, Stubber]) -> None:
    client, stubber = apigateway
    stubber.add_response("get_account", {"cloudwatchRoleArn": LOGS_ROLE})
    secrets = boto3.client("secretsmanager", region_name=REGION)
    arn = secrets.create_secret(Name="prompt-api/dev/mongodb-uri", SecretString=URI)["ARN"]
    lines: list[str] = []

    status = run(client, lines, uri="mongodb://another", MongoDbUriSecretArn=arn)

    assert status == 0
    assert secrets.get_secret_value(SecretId=arn)["SecretString"] == URI
    assert f"{arn} (exists, holds a MongoDB URI)" in "\n".join(lines)
    assert not [line for line in lines if "Put in samconfig.toml" in line]  # samconfig already has it


@pytest.mark.usefixtures("aws")
def test_a_secret_that_holds_no_mongodb_uri_is_reported(apigateway: tuple[Any, Stubber]) -> None:
    client, stubber = apigateway
    stubber.add_response("get_account", {"cloudwatchRoleArn": LOGS_ROLE})
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="prompt-api/dev/mongodb-uri", SecretString="REPLACE_ME"
    )
    lines: list[str] = []

    assert run(client, lines) == 1
    assert lines[-1] == (
        "make secrets: secret prompt-api/dev/mongodb-uri holds no MongoDB connection string (mongodb:// or mongodb+srv://)"
    )


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("uri", [None, "postgres://nope"])
def test_no_secret_is_created_without_a_mongodb_uri(apigateway: tuple[Any, Stubber], uri: str | None) -> None:
    client, stubber = apigateway
    stubber.add_response("get_account", {"cloudwatchRoleArn": LOGS_ROLE})
    lines: list[str] = []

    assert run(client, lines, uri=uri) == 1
    assert boto3.client("secretsmanager", region_name=REGION).list_secrets()["SecretList"] == []


@pytest.mark.usefixtures("aws")
def test_check_creates_nothing(apigateway: tuple[Any, Stubber]) -> None:
    client, stubber = apigateway
    stubber.add_response("get_account", {})
    lines: list[str] = []

    assert run(client, lines, create=False) == 1
    assert boto3.client("secretsmanager", region_name=REGION).list_secrets()["SecretList"] == []
    assert "API Gateway has no CloudWatch Logs role" in lines[-1]
    assert "does not exist" in lines[-2]


@pytest.mark.usefixtures("aws")
def test_iam_auth_needs_no_secret_and_names_the_role_for_the_atlas_user(apigateway: tuple[Any, Stubber]) -> None:
    client, stubber = apigateway
    stubber.add_response("get_account", {"cloudwatchRoleArn": LOGS_ROLE})
    lines: list[str] = []

    assert run(client, lines, uri=None, MongoAuth="iam") == 0
    assert boto3.client("secretsmanager", region_name=REGION).list_secrets()["SecretList"] == []
    assert "arn:aws:iam::123456789012:role/prompt-api-dev-functions" in lines[1]  # moto's account


@pytest.mark.usefixtures("aws")
def test_an_account_without_api_gateway_logs_role_gets_one(apigateway: tuple[Any, Stubber]) -> None:
    client, stubber = apigateway
    arn = "arn:aws:iam::123456789012:role/prompt-api-apigateway-cloudwatch-logs"
    operation = [{"op": "replace", "path": "/cloudwatchRoleArn", "value": arn}]
    stubber.add_response("get_account", {})
    # IAM's propagation delay: API Gateway refuses a brand-new role for a moment.
    stubber.add_client_error("update_account", "BadRequestException", expected_params={"patchOperations": operation})
    stubber.add_response("update_account", {"cloudwatchRoleArn": arn}, expected_params={"patchOperations": operation})
    lines: list[str] = []

    assert run(client, lines) == 0
    iam = boto3.client("iam", region_name=REGION)
    role = iam.get_role(RoleName=prerequisites.API_GATEWAY_LOGS_ROLE)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
    attached = iam.list_attached_role_policies(RoleName=prerequisites.API_GATEWAY_LOGS_ROLE)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [
        "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    ]
    assert f"{arn} (created and set)" in "\n".join(lines)


@pytest.mark.usefixtures("aws")
def test_an_existing_api_gateway_logs_role_is_left_alone(apigateway: tuple[Any, Stubber]) -> None:
    client, stubber = apigateway
    stubber.add_response("get_account", {"cloudwatchRoleArn": LOGS_ROLE})  # and no update_account
    lines: list[str] = []

    assert run(client, lines) == 0
    assert f"{LOGS_ROLE} (set)" in "\n".join(lines)


def test_environments_are_read_from_samconfig_with_the_sections_that_hold_their_parameters() -> None:
    dev = prerequisites.read_environment("dev")
    prod = prerequisites.read_environment("prod")

    assert (dev.stack_name, dev.sections) == ("prompt-api-dev", ("[dev.deploy.parameters]", "[dev.sync.parameters]"))
    assert (prod.stack_name, prod.sections) == ("prompt-api-prod", ("[prod.deploy.parameters]",))
    assert "MongoDbUriSecretArn" in dev.parameters


def test_an_unknown_environment_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert prerequisites.main(["--env", "staging"]) == 2
    assert "samconfig.toml has no [staging.deploy.parameters]" in capsys.readouterr().err
