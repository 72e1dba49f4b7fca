"""Secrets come from Secrets Manager (moto) when their ARNs are set, and are checked at start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import jwt
import pytest
from cfnlint.decode import cfn_yaml
from moto import mock_aws

from shared.errors import ConfigurationError
from tests.support import FUNCTIONS_DIR, PASSWORD, ROOT, invoke, load_function, register

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


def _functions_with_policy(policy: str) -> set[str]:
    """The function folders whose template role has ``policy`` (a managed policy of the template)."""
    resources = cfn_yaml.load(str(ROOT / "template.yaml"))["Resources"]
    return {
        Path(r["Properties"]["CodeUri"]).name
        for r in resources.values()
        if r["Type"] == "AWS::Serverless::Function" and {"Ref": policy} in (r["Properties"].get("Policies") or [])
    }


# The functions that sign or check access tokens: the only ones that may read the JWT secret.
TOKEN_FUNCTIONS = {"authorizer", "change_password", "login", "refresh_token"}
FUNCTIONS = sorted(p.parent.name for p in FUNCTIONS_DIR.glob("*/app.py"))


def test_only_the_token_functions_may_read_the_jwt_secret() -> None:
    assert _functions_with_policy("ReadJwtSecretPolicy") == TOKEN_FUNCTIONS


@pytest.mark.parametrize("route", FUNCTIONS)
def test_inside_lambda_only_the_token_functions_fail_at_start_without_jwt_secret(
    route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_SECRET")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", f"prompt-api-{route}")
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/")
    monkeypatch.setenv("MAIL_FROM", "no-reply@mail.prompt-api.test")  # the forgot function's own check
    monkeypatch.setenv("PASSWORD_RESET_URL", "https://app.prompt-api.test/reset")

    if route in TOKEN_FUNCTIONS:
        with pytest.raises(ConfigurationError, match="JWT_SECRET_ARN"):
            load_function(route)
    else:
        load_function(route)


@pytest.mark.parametrize("route", FUNCTIONS)
def test_outside_lambda_only_the_authorizer_checks_the_jwt_secret_at_start(
    route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tools import the route functions without serving them (the OpenAPI generator): they need no secret."""
    monkeypatch.delenv("JWT_SECRET")

    if route == "authorizer":
        with pytest.raises(ConfigurationError, match="JWT_SECRET_ARN"):
            load_function(route)
    else:
        load_function(route)


def test_outside_lambda_a_token_route_without_jwt_secret_fails_on_its_first_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    register()
    monkeypatch.delenv("JWT_SECRET")

    result = invoke("login", body={"email": "ada@example.com", "password": PASSWORD})

    assert result.status == 500
    assert result.body == {"detail": "Internal server error"}
    assert "Set JWT_SECRET_ARN (in AWS) or JWT_SECRET (locally)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("route", "variable", "value"),
    [("get_prompt", "BCRYPT_ROUNDS", "3"), ("login", "LOGIN_MAX_FAILURES", "0"), ("me", "MONGODB_TIMEOUT_MS", "x")],
)
def test_a_bad_plain_setting_stops_any_http_function_at_start(
    route: str, variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigurationError, match=variable):
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
