"""template.yaml lints clean and carries the production settings; samconfig.toml and the SAM-local
env file agree with it."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import cfn_yaml

from shared.config import Settings

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
SAMCONFIG_PATH = ROOT / "samconfig.toml"
DOCKER_ENV_FILE = "env.docker.json"
DOCKER_ENV_EXAMPLE = ROOT / "env.docker.example.json"
API_GATEWAY_TIMEOUT_SECONDS = 29
BCRYPT_FUNCTIONS = ("RegisterFunction", "LoginFunction")
DEPLOY_ENVIRONMENTS = ("dev", "prod")

TEMPLATE: dict[str, Any] = cfn_yaml.load(str(TEMPLATE_PATH))
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBALS: dict[str, Any] = TEMPLATE["Globals"]["Function"]
FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")
# Functions behind a CloudFormation custom resource: the deploy calls them, API Gateway never does.
CUSTOM_RESOURCE_FUNCTIONS = sorted(
    r["Properties"]["ServiceToken"]["Fn::GetAtt"][0] for r in RESOURCES.values() if r["Type"].startswith("Custom::")
)
API_FUNCTIONS = [f for f in FUNCTIONS if f not in CUSTOM_RESOURCE_FUNCTIONS]
SAMCONFIG: dict[str, Any] = tomllib.loads(SAMCONFIG_PATH.read_text(encoding="utf-8"))


def setting(function: str, name: str) -> Any:
    """A function property as SAM sees it: its own value, else the Globals one."""
    return RESOURCES[function]["Properties"].get(name, GLOBALS.get(name))


def api_properties() -> dict[str, Any]:
    (api,) = (r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::Serverless::Api")
    return api


def overrides(environment: str) -> dict[str, str]:
    raw = SAMCONFIG[environment]["deploy"]["parameters"]["parameter_overrides"]
    return dict(item.split("=", 1) for item in shlex.split(raw))


def test_template_has_no_cfn_lint_findings() -> None:
    findings = lint_file(TEMPLATE_PATH)

    assert [str(finding) for finding in findings] == []


def test_functions_run_python313_on_arm64_with_the_shared_layer_and_xray() -> None:
    assert GLOBALS["Runtime"] == "python3.13"
    assert GLOBALS["Architectures"] == ["arm64"]
    assert GLOBALS["Layers"] == [{"Ref": "SharedLayer"}]
    assert GLOBALS["Tracing"] == "Active"
    assert not [f for f in FUNCTIONS if setting(f, "Tracing") != "Active"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_logs_json_to_its_own_log_group_with_retention(function: str) -> None:
    logging_config = {**GLOBALS.get("LoggingConfig", {}), **setting(function, "LoggingConfig")}

    assert logging_config["LogFormat"] == "JSON"
    log_group = RESOURCES[logging_config["LogGroup"]["Ref"]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_lambda_log_level_follows_the_log_level_parameter() -> None:
    # Powertools takes Lambda's application log level over POWERTOOLS_LOG_LEVEL when both are set.
    levels = TEMPLATE["Parameters"]["LogLevel"]["AllowedValues"]
    lambda_names = {level: TEMPLATE["Mappings"]["LambdaLogLevel"][level]["Name"] for level in levels}

    assert GLOBALS["LoggingConfig"]["ApplicationLogLevel"] == {
        "Fn::FindInMap": ["LambdaLogLevel", {"Ref": "LogLevel"}, "Name"]
    }
    assert GLOBALS["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
    assert set(lambda_names.values()) <= {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
    assert all(name == level or (level, name) == ("WARNING", "WARN") for level, name in lambda_names.items())


def test_every_function_has_a_log_group_of_its_own() -> None:
    log_groups = [setting(f, "LoggingConfig")["LogGroup"]["Ref"] for f in FUNCTIONS]

    assert len(set(log_groups)) == len(FUNCTIONS)


@pytest.mark.parametrize("function", API_FUNCTIONS)
def test_function_times_out_before_api_gateway_does(function: str) -> None:
    assert 1 <= setting(function, "Timeout") < API_GATEWAY_TIMEOUT_SECONDS


def test_indexes_are_created_by_a_custom_resource_that_reruns_when_the_layer_changes() -> None:
    resource = RESOURCES["MongoIndexes"]
    properties = resource["Properties"]

    assert CUSTOM_RESOURCE_FUNCTIONS == ["IndexesFunction"]
    assert resource["Type"] == "Custom::MongoIndexes"
    assert properties["ServiceToken"] == {"Fn::GetAtt": ["IndexesFunction", "Arn"]}
    assert properties["SharedLayerVersion"] == {"Ref": "SharedLayer"}  # new definitions, new version
    assert properties["Database"] == {"Ref": "MongoDbName"}
    assert setting("IndexesFunction", "Timeout") < properties["ServiceTimeout"] <= 3600
    assert "Events" not in RESOURCES["IndexesFunction"]["Properties"]


def test_indexes_function_reads_only_its_own_database_secret() -> None:
    function = RESOURCES["IndexesFunction"]["Properties"]
    secret = {
        "Fn::If": ["HasIndexesMongoDbUriSecret", {"Ref": "IndexesMongoDbUriSecretArn"}, {"Ref": "MongoDbUriSecretArn"}]
    }

    (policy,) = function["Policies"]
    assert policy["Statement"] == [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}]
    assert function["Environment"]["Variables"] == {"MONGODB_URI_SECRET_ARN": secret}
    assert TEMPLATE["Parameters"]["IndexesMongoDbUriSecretArn"]["Default"] == ""


@pytest.mark.parametrize("function", BCRYPT_FUNCTIONS)
def test_bcrypt_functions_get_1024_mb_for_cpu(function: str) -> None:
    assert setting(function, "MemorySize") == 1024


def test_api_stage_throttles_every_route_with_parameters() -> None:
    (method_setting,) = api_properties()["MethodSettings"]

    assert method_setting["ResourcePath"] == "/*"
    assert method_setting["HttpMethod"] == "*"
    assert method_setting["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert method_setting["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}


def test_api_access_log_is_json_with_request_id_in_a_log_group_with_retention() -> None:
    access_log = api_properties()["AccessLogSetting"]

    fields = json.loads(access_log["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert not [value for value in fields.values() if "header" in value.lower()]  # never a token
    log_group = RESOURCES[access_log["DestinationArn"]["Fn::GetAtt"][0]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_api_is_traced_and_has_no_stray_default_stage() -> None:
    api = api_properties()

    assert api["TracingEnabled"] is True
    assert api["StageName"] == {"Ref": "StageName"}
    assert "OpenApiVersion" in api  # without it SAM adds a second stage named "Stage"


def test_outputs_give_the_api_url() -> None:
    url = TEMPLATE["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]

    assert url == "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/${StageName}"


def test_shared_layer_is_built_by_its_makefile_for_arm64_from_the_shared_package() -> None:
    layer = RESOURCES["SharedLayer"]

    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["ContentUri"] == "layers/shared/"
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert (ROOT / "layers/shared/shared").resolve() == ROOT / "shared"
    assert "build-SharedLayer:" in (ROOT / "layers/shared/Makefile").read_text(encoding="utf-8")


def pins(path: Path) -> dict[str, str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return dict(line.lower().split("==", 1) for line in lines if line and not line.startswith("-"))


def test_layer_requirements_are_the_root_requirements_without_boto3() -> None:
    root = pins(ROOT / "requirements.txt")

    assert "boto3" in root
    assert pins(ROOT / "layers/shared/requirements.txt") == {k: v for k, v in root.items() if k != "boto3"}


def test_samconfig_builds_cached_and_in_parallel_in_every_environment() -> None:
    assert SAMCONFIG["version"] == 0.1
    for environment in ("default", *DEPLOY_ENVIRONMENTS):
        build = SAMCONFIG[environment]["build"]["parameters"]
        assert (build["cached"], build["parallel"]) == (True, True), environment


@pytest.mark.parametrize("environment", DEPLOY_ENVIRONMENTS)
def test_samconfig_deploys_each_environment_as_its_own_stack(environment: str) -> None:
    deploy = SAMCONFIG[environment]["deploy"]["parameters"]

    assert SAMCONFIG[environment]["global"]["parameters"]["stack_name"] == f"prompt-api-{environment}"
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["resolve_s3"] is True
    assert overrides(environment)["StageName"] == environment


def test_samconfig_asks_before_changing_prod() -> None:
    assert SAMCONFIG["prod"]["deploy"]["parameters"]["confirm_changeset"] is True


@pytest.mark.parametrize("environment", DEPLOY_ENVIRONMENTS)
def test_samconfig_overrides_are_values_the_template_accepts(environment: str) -> None:
    parameters = TEMPLATE["Parameters"]
    for name, value in overrides(environment).items():
        if name == "MongoDbUriSecretArn":
            continue
        spec = parameters[name]
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], name
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), name
        if spec["Type"] == "Number":
            assert spec.get("MinValue", float("-inf")) <= float(value) <= spec.get("MaxValue", float("inf")), name


@pytest.mark.parametrize("environment", DEPLOY_ENVIRONMENTS)
def test_samconfig_secret_arn_placeholder_is_refused_until_replaced(environment: str) -> None:
    pattern = TEMPLATE["Parameters"]["MongoDbUriSecretArn"]["AllowedPattern"]
    placeholder = overrides(environment)["MongoDbUriSecretArn"]

    assert re.fullmatch(pattern, placeholder) is None
    real = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prompt-api/mongodb-uri-AbCdEf"
    assert re.fullmatch(pattern, real) is not None


def test_sam_local_commands_read_the_docker_env_file_which_git_ignores() -> None:
    for command in ("local_start_api", "local_invoke"):
        assert SAMCONFIG["default"][command]["parameters"]["env_vars"] == DOCKER_ENV_FILE
    assert DOCKER_ENV_FILE in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def docker_env() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(DOCKER_ENV_EXAMPLE.read_text(encoding="utf-8"))
    return data


def test_docker_env_file_names_only_functions_of_the_template() -> None:
    sections = set(docker_env()) - {"Parameters"}

    assert sections
    assert sections <= set(FUNCTIONS)


def test_docker_env_file_sets_only_variables_the_template_declares() -> None:
    # SAM's local commands pass a function only the variables its template environment declares.
    declared = set(GLOBALS["Environment"]["Variables"])
    for section, variables in docker_env().items():
        assert set(variables) <= declared, section


def test_docker_env_file_gives_a_configuration_lambda_accepts_without_secrets_manager() -> None:
    parameters = docker_env()["Parameters"]
    plain = {k: v for k, v in GLOBALS["Environment"]["Variables"].items() if isinstance(v, str)}

    settings = Settings.from_env({**plain, **parameters, "AWS_LAMBDA_FUNCTION_NAME": "RegisterFunction"})

    assert settings.in_lambda
    assert settings.mongodb_uri == "mongodb://host.docker.internal:27017"
    assert settings.mongodb_uri_secret_arn is None
    assert settings.jwt_secret_arn is None
    assert settings.jwt_secret is not None
