"""make smoke's own parts (contract/smoke.py): the stack's URL and CORS origins read through moto's
CloudFormation (``--env``), the stack named as samconfig.toml names it, the pause before a retried 429,
and the forged token's shape. The journey itself runs against the local API:
tests/integration/test_smoke.py."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
from moto import mock_aws

from contract import smoke

REGION = "eu-west-1"
API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/dev"


def template(*, api_url: bool = True) -> str:
    """A stack shaped as ours where smoke reads it: the CorsAllowOrigin parameter and the ApiUrl output."""
    body: dict[str, Any] = {
        "Parameters": {"CorsAllowOrigin": {"Type": "String", "Default": "*"}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    }
    if api_url:
        body["Outputs"] = {"ApiUrl": {"Value": API_URL}, "AlarmTopicArn": {"Value": {"Ref": "Topic"}}}
    return json.dumps(body)


@pytest.fixture
def cloudformation() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudformation", region_name=REGION)


def deploy(cloudformation: Any, name: str = "prompt-api-dev", *, cors: str | None = None, **options: bool) -> None:
    parameters = [{"ParameterKey": "CorsAllowOrigin", "ParameterValue": cors}] if cors is not None else []
    cloudformation.create_stack(StackName=name, TemplateBody=template(**options), Parameters=parameters)


def test_env_reads_the_url_from_the_stacks_api_url_output(cloudformation: Any) -> None:
    deploy(cloudformation, cors="https://app.example.com")

    target = smoke.read_stack(cloudformation, "prompt-api-dev")

    assert target == smoke.Target(API_URL, ("https://app.example.com",))


def test_env_preflights_each_origin_of_the_stacks_list(cloudformation: Any) -> None:
    deploy(cloudformation, cors="https://app.example.com, https://admin.example.com")

    assert smoke.read_stack(cloudformation, "prompt-api-dev").origins == (
        "https://app.example.com",
        "https://admin.example.com",
    )


def test_env_preflights_a_sample_origin_when_the_stack_allows_any(cloudformation: Any) -> None:
    deploy(cloudformation)  # CorsAllowOrigin at its default, "*"

    assert smoke.read_stack(cloudformation, "prompt-api-dev").origins == (smoke.ANY_ORIGIN_SAMPLE,)


def test_env_with_no_such_stack_is_a_setup_error_naming_it(cloudformation: Any) -> None:
    with pytest.raises(smoke.SetupError, match="stack prompt-api-prod: Stack with id prompt-api-prod does not exist"):
        smoke.read_stack(cloudformation, "prompt-api-prod")


def test_env_with_a_stack_without_api_url_is_a_setup_error(cloudformation: Any) -> None:
    deploy(cloudformation, api_url=False)

    with pytest.raises(smoke.SetupError, match=r"stack prompt-api-dev \(CREATE_COMPLETE\) has no ApiUrl output"):
        smoke.read_stack(cloudformation, "prompt-api-dev")


def test_print_command_names_the_stacks_url_and_origins(cloudformation: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    deploy(cloudformation, cors="https://app.example.com,https://admin.example.com")
    lines: list[str] = []

    status = smoke.main(["--print-command", "--env", "dev"], out=lines.append)

    assert status == 0
    assert lines == [
        f"Smoke test: make smoke URL={API_URL} ORIGIN='https://app.example.com https://admin.example.com'"
        " (or: make smoke ENV=dev)"
    ]


def test_print_command_without_the_stack_says_why_and_exits_2(
    cloudformation: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    status = smoke.main(["--print-command", "--env", "prod", "--region", REGION], out=print)

    assert status == 2
    assert capsys.readouterr().err == "smoke: stack prompt-api-prod: Stack with id prompt-api-prod does not exist\n"


def test_env_without_a_region_is_a_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")

    with pytest.raises(smoke.SetupError, match="stack prompt-api-dev: You must specify a region"):
        smoke.target_of_stack("dev", region=None)


def test_stack_name_is_samconfigs_global_one_of_the_environment() -> None:
    assert smoke.stack_name("dev") == "prompt-api-dev"
    assert smoke.stack_name("prod") == "prompt-api-prod"


def test_an_environment_without_a_stack_name_is_a_setup_error(tmp_path: Path) -> None:
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text("version = 0.1\n[qa.deploy.parameters]\nresolve_s3 = true\n", encoding="utf-8")

    with pytest.raises(smoke.SetupError, match=r"no stack_name in \[qa.global.parameters\]"):
        smoke.stack_name("qa", samconfig)


@pytest.mark.parametrize(
    ("retry_after", "pause"),
    [(None, smoke.THROTTLE_PAUSE_S), ("0", 0.0), ("3", 3.0), ("10", 10.0), ("11", None), ("900", None)],
)
def test_a_429_is_retried_after_a_short_retry_after_only(retry_after: str | None, pause: float | None) -> None:
    assert smoke.throttle_pause(retry_after) == pause


def test_a_429_with_an_http_date_is_not_waited_for() -> None:
    assert smoke.throttle_pause("Wed, 21 Oct 2026 07:28:00 GMT") is None


def test_forged_token_is_a_well_formed_hs256_jwt_no_key_verifies() -> None:
    token = smoke.forged_token("3f1c2a4e-0000-4000-8000-000000000000")
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))

    assert header == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert {"sub", "sid", "jti", "iat", "exp", "iss", "aud"} <= set(claims)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "a key of at least thirty-two characters", algorithms=["HS256"], audience="prompt-api")
