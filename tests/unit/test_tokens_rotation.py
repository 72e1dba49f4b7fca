"""Rotating the JWT signing secret logs nobody out: tokens name their key (``kid``), the current key
signs, the current and the previous key verify, and a dropped key's tokens are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import jwt
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from shared import config
from shared.accounts.access_tokens import create_access_token, decode_access_token, key_id
from shared.config import JwtSecrets, parse_jwt_secrets
from shared.errors import ConfigurationError
from tests.support import TEST_JWT_SECRET, authorize, login, register

KEY_A = "key-a-0123456789-0123456789-0123456789-abcdefgh"
KEY_B = "key-b-0123456789-0123456789-0123456789-abcdefgh"


def _new_containers() -> None:
    """What a container started after the rotation reads: fresh settings and secrets (same database)."""
    config.clear_caches()
    parameters.clear_caches()


def _kid(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


def _refused(token: str) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(token)


def _token(secret: str, **changes: object) -> str:
    arguments: dict = {
        "subject": "user-1",
        "session_id": "session-1",
        "secret": secret,
        "issuer": "iss",
        "audience": "aud",
        "expires_minutes": 5,
    }
    return create_access_token(**{**arguments, **changes})


# The secret's format -------------------------------------------------------------------------


def test_a_plain_string_is_the_single_current_key() -> None:
    assert parse_jwt_secrets(KEY_A, name="JWT_SECRET", strict=True) == JwtSecrets(KEY_A)


def test_json_names_the_current_and_the_previous_key() -> None:
    value = json.dumps({"current": KEY_B, "previous": KEY_A})

    secrets = parse_jwt_secrets(value, name="JWT_SECRET", strict=True)

    assert secrets == JwtSecrets(KEY_B, KEY_A)
    assert secrets.verifying == (KEY_B, KEY_A)


@pytest.mark.parametrize("previous", [None, ""])
def test_json_without_a_previous_key_has_only_the_current_one(previous: str | None) -> None:
    value = json.dumps({"current": KEY_B, "previous": previous})

    assert parse_jwt_secrets(value, name="JWT_SECRET", strict=True).verifying == (KEY_B,)


def test_the_format_the_stack_generates_is_read() -> None:
    generated = '{"current":"' + "x" * 64 + '"}'  # SecretStringTemplate "{}" + GenerateStringKey "current"

    assert parse_jwt_secrets(generated, name="JWT_SECRET_ARN's secret", strict=True) == JwtSecrets("x" * 64)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"current": "' + KEY_A + '"', "not valid JSON"),
        ('{"previous": "' + KEY_A + '"}', "must be a string or JSON"),
        ('{"current": 42}', "must be a string or JSON"),
        ('{"current": "' + KEY_B + '", "previos": "' + KEY_A + '"}', "unknown fields \\['previos'\\]"),
        ('{"current": "' + KEY_B + '", "previous": 1}', "'previous' must be a string"),
        ('{"current": "' + KEY_B + '", "previous": "changeme"}', "JWT_SECRET's 'previous' is a placeholder"),
        ('{"current": "short", "previous": "' + KEY_A + '"}', "JWT_SECRET's 'current' is a placeholder or shorter"),
    ],
)
def test_a_malformed_or_weak_secret_is_refused_inside_lambda_naming_the_field(value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as refused:
        parse_jwt_secrets(value, name="JWT_SECRET", strict=True)

    assert KEY_A not in str(refused.value)
    assert KEY_B not in str(refused.value)


def test_a_weak_json_key_is_checked_at_start_inside_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "prompt-api-login")
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/")
    monkeypatch.setenv("JWT_SECRET", json.dumps({"current": KEY_B, "previous": "secret"}))

    with pytest.raises(ConfigurationError, match="JWT_SECRET's 'previous'"):
        config.TokenSettings.from_env()


# Tokens and their key ids ----------------------------------------------------------------------


def test_key_id_is_derived_from_the_secret_alone() -> None:
    assert key_id(KEY_A) == key_id(KEY_A)
    assert key_id(KEY_A) != key_id(KEY_B)
    assert len(key_id(KEY_A)) == 8


def test_a_token_names_the_key_that_signed_it() -> None:
    assert _kid(_token(KEY_A)) == key_id(KEY_A)


def test_a_token_of_the_previous_key_is_verified() -> None:
    claims = decode_access_token(_token(KEY_A), secrets=[KEY_B, KEY_A], issuer="iss", audience="aud")

    assert claims["sub"] == "user-1"


def test_a_token_of_a_key_no_longer_listed_is_refused() -> None:
    with pytest.raises(jwt.InvalidTokenError, match="no known signing key"):
        decode_access_token(_token(KEY_A), secrets=[KEY_B], issuer="iss", audience="aud")


def test_a_token_without_a_kid_is_refused_even_when_signed_with_the_current_key() -> None:
    now = datetime.now(UTC)
    claims = {"sub": "u", "sid": "s", "jti": "j", "iat": now, "exp": now + timedelta(minutes=5)}
    token = jwt.encode({**claims, "iss": "iss", "aud": "aud"}, KEY_A, algorithm="HS256")

    with pytest.raises(jwt.InvalidTokenError):
        decode_access_token(token, secrets=[KEY_A], issuer="iss", audience="aud")


def test_a_token_naming_a_known_kid_but_signed_with_another_secret_is_refused() -> None:
    now = datetime.now(UTC)
    claims = {"sub": "u", "sid": "s", "jti": "j", "iat": now, "exp": now + timedelta(minutes=5)}
    forged = jwt.encode(
        {**claims, "iss": "iss", "aud": "aud"}, KEY_B, algorithm="HS256", headers={"kid": key_id(KEY_A)}
    )

    with pytest.raises(jwt.InvalidSignatureError):
        decode_access_token(forged, secrets=[KEY_A], issuer="iss", audience="aud")


# Rotating, through the functions ---------------------------------------------------------------


def test_rotating_jwt_secret_keeps_earlier_tokens_until_the_previous_key_is_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JWT_SECRET", KEY_A)
    _new_containers()
    user = register()
    token_a = login()
    assert _kid(token_a) == key_id(KEY_A)

    monkeypatch.setenv("JWT_SECRET", json.dumps({"current": KEY_B, "previous": KEY_A}))
    _new_containers()

    assert authorize(token_a)["principalId"] == user["id"]
    token_b = login()
    assert _kid(token_b) == key_id(KEY_B)
    assert authorize(token_b)["principalId"] == user["id"]

    monkeypatch.setenv("JWT_SECRET", json.dumps({"current": KEY_B}))
    _new_containers()

    _refused(token_a)
    assert authorize(token_b)["principalId"] == user["id"]


def test_a_staged_key_verifies_before_it_signs_so_stale_containers_accept_its_tokens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Step 1 of the procedure: B is staged as "previous" while A still signs. A container still on
    this value (its cache not yet expired) accepts the tokens that containers already on step 2 sign."""
    monkeypatch.setenv("JWT_SECRET", json.dumps({"current": KEY_A, "previous": KEY_B}))
    _new_containers()
    user = register()
    token_a = login()
    assert _kid(token_a) == key_id(KEY_A)
    claims = jwt.decode(token_a, options={"verify_signature": False})
    token_b = jwt.encode(claims, KEY_B, algorithm="HS256", headers={"kid": key_id(KEY_B)})

    assert authorize(token_a)["principalId"] == user["id"]
    assert authorize(token_b)["principalId"] == user["id"]


def test_the_authorizer_refuses_a_token_without_kid_of_a_live_session() -> None:
    register()
    claims = jwt.decode(login(), options={"verify_signature": False})  # all valid, session live

    _refused(jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256"))


@pytest.fixture
def secretsmanager() -> Iterator[object]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def test_rotating_the_secret_in_secrets_manager_with_one_put_logs_nobody_out(
    secretsmanager: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before this format existed the stack generated a plain string: it is the current key as it is.
    arn = secretsmanager.create_secret(Name="jwt", SecretString=KEY_A)["ARN"]  # type: ignore[attr-defined]
    monkeypatch.delenv("JWT_SECRET")
    monkeypatch.setenv("JWT_SECRET_ARN", arn)
    _new_containers()
    user = register()
    token_a = login()

    secretsmanager.put_secret_value(  # type: ignore[attr-defined]
        SecretId=arn, SecretString=json.dumps({"current": KEY_B, "previous": KEY_A})
    )
    _new_containers()

    assert authorize(token_a)["principalId"] == user["id"]
    token_b = login()
    assert _kid(token_b) == key_id(KEY_B)

    secretsmanager.put_secret_value(SecretId=arn, SecretString=json.dumps({"current": KEY_B}))  # type: ignore[attr-defined]
    _new_containers()

    _refused(token_a)
    assert authorize(token_b)["principalId"] == user["id"]
