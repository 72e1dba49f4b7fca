"""Secrets come from Secrets Manager (moto) when their ARNs are set, and are checked at start."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import jwt
import pytest
from moto import mock_aws

from shared.errors import ConfigurationError
from tests.support import PASSWORD, invoke, load_function, register

STACK_SECRET = "generated-by-the-stack-0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def secretsmanager() -> Iterator[object]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def _secret(client: object, name: str, value: str) -> str:
    arn: str = client.create_secret(Name=name, SecretString=value)["ARN"]  # type: ignore[attr-defined]
    return arn


def test_login_signs_with_the_secret_from_secrets_manager(
    secretsmanager: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_SECRET")
    monkeypatch.setenv("JWT_SECRET_ARN", _secret(secretsmanager, "jwt", STACK_SECRET))
    register()

    result = invoke("login", body={"email": "ada@example.com", "password": PASSWORD})

    assert result.status == 200
    claims = jwt.decode(result.body["access_token"], STACK_SECRET, algorithms=["HS256"], audience="prompt-api")
    assert claims["iss"] == "prompt-api"


def test_mongodb_uri_is_read_from_its_secret_inside_lambda(
    secretsmanager: object, monkeypatch: pytest.MonkeyPatch, unreachable_mongodb: str
) -> None:
    monkeypatch.delenv("MONGODB_URI")
    monkeypatch.setenv("MONGODB_URI_SECRET_ARN", _secret(secretsmanager, "mongo", unreachable_mongodb))
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "prompt-api-health")
    monkeypatch.setenv("JWT_SECRET", STACK_SECRET)

    result = invoke("health")

    # The embedded store would have answered "ok": the unreachable URI in the secret was used.
    assert result.status == 503
    assert result.body["database"] == "unavailable"


def test_placeholder_secret_in_secrets_manager_is_refused_inside_lambda(
    secretsmanager: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_SECRET")
    monkeypatch.setenv("JWT_SECRET_ARN", _secret(secretsmanager, "jwt", "changeme"))
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "prompt-api-authorizer")

    with pytest.raises(ConfigurationError, match="JWT_SECRET_ARN"):
        from tests.support import authorize

        authorize("anything.at.all")


@pytest.mark.parametrize("route", ["register", "authorizer"])
def test_function_without_jwt_secret_fails_at_start_naming_the_variable(
    route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_SECRET")

    with pytest.raises(ConfigurationError, match="JWT_SECRET_ARN"):
        load_function(route)


@pytest.mark.parametrize("placeholder", ["changeme", "secret", "short-but-not-a-placeholder"])
def test_placeholder_jwt_secret_fails_at_start_inside_lambda(placeholder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "prompt-api-login")
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/")
    monkeypatch.setenv("JWT_SECRET", placeholder)

    with pytest.raises(ConfigurationError, match="JWT_SECRET"):
        load_function("login")


def test_no_database_inside_lambda_fails_at_start_naming_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "prompt-api-health")
    monkeypatch.setenv("JWT_SECRET", STACK_SECRET)

    with pytest.raises(ConfigurationError, match="MONGODB_URI_SECRET_ARN or MONGODB_URI"):
        load_function("health")


def test_secret_is_fetched_once_per_container(secretsmanager: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET")
    arn = _secret(secretsmanager, "jwt", STACK_SECRET)
    monkeypatch.setenv("JWT_SECRET_ARN", arn)
    register()
    invoke("login", body={"email": "ada@example.com", "password": PASSWORD})
    secretsmanager.put_secret_value(SecretId=arn, SecretString="rotated-" + STACK_SECRET)  # type: ignore[attr-defined]

    result = invoke("login", body={"email": "ada@example.com", "password": PASSWORD})

    # Still the cached value: no Secrets Manager call per request.
    jwt.decode(result.body["access_token"], STACK_SECRET, algorithms=["HS256"], audience="prompt-api")
