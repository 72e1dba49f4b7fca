"""template.yaml lints clean and carries the production settings; samconfig.toml and the SAM-local
env file agree with it."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import cfn_yaml

from local_api.intrinsics import Intrinsics
from shared.config import DatabaseSettings, TokenSettings
from shared.metrics import Metric

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
SAMCONFIG_PATH = ROOT / "samconfig.toml"
DOCKER_ENV_FILE = "env.docker.json"
DOCKER_ENV_EXAMPLE = ROOT / "env.docker.example.json"
API_GATEWAY_TIMEOUT_SECONDS = 29
BCRYPT_FUNCTIONS = ("RegisterFunction", "LoginFunction")
ALIAS = "live"
DEPLOY_ENVIRONMENTS = ("dev", "prod")

TEMPLATE: dict[str, Any] = cfn_yaml.load(str(TEMPLATE_PATH))
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
STATUS_WRITE = "/api/status"
PUBLIC_AUTH_PATHS = tuple(
    sorted(
        event["Properties"]["Path"]
        for resource in RESOURCES.values()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
        and event["Properties"]["Method"] == "post"
        and event["Properties"].get("Auth", {}).get("Authorizer") == "NONE"
        and event["Properties"]["Path"] != STATUS_WRITE
    )
)
"""The public writes that take credentials or tokens (every public POST but the status check's): the
routes a guesser aims at, each with the strict throttles and the WAF's auth rule."""
GLOBALS: dict[str, Any] = TEMPLATE["Globals"]["Function"]
FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")
# Functions behind a CloudFormation custom resource: the deploy calls them, API Gateway never does.
CUSTOM_RESOURCE_FUNCTIONS = sorted(
    r["Properties"]["ServiceToken"]["Fn::GetAtt"][0] for r in RESOURCES.values() if r["Type"].startswith("Custom::")
)
# Functions an EventBridge schedule calls.
SCHEDULED_FUNCTIONS = sorted(
    f
    for f in FUNCTIONS
    if any(e["Type"] == "Schedule" for e in (RESOURCES[f]["Properties"].get("Events") or {}).values())
)
# Functions API Gateway calls: the routes' and the authorizer.
GATEWAY_FUNCTIONS = [f for f in FUNCTIONS if f not in CUSTOM_RESOURCE_FUNCTIONS and f not in SCHEDULED_FUNCTIONS]
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


def logging_config(function: str) -> dict[str, Any]:
    """A function's LoggingConfig as SAM merges it: Globals' keys, then its own."""
    own = RESOURCES[function]["Properties"].get("LoggingConfig") or {}
    return {**GLOBALS.get("LoggingConfig", {}), **own}


def log_group_of(function: str) -> str:
    return str(logging_config(function)["LogGroup"]["Ref"])


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_logs_json_to_a_log_group_of_the_stack_with_retention(function: str) -> None:
    assert logging_config(function)["LogFormat"] == "JSON"
    log_group = RESOURCES[log_group_of(function)]
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


def test_a_new_function_needs_no_log_group_of_its_own() -> None:
    # One log group for every function, named in Globals: Lambda names each log stream after its function.
    assert {log_group_of(f) for f in FUNCTIONS} == {GLOBALS["LoggingConfig"]["LogGroup"]["Ref"]}
    assert [f for f in FUNCTIONS if "LoggingConfig" in RESOURCES[f]["Properties"]] == []


def test_every_log_group_is_the_functions_or_the_api_access_log() -> None:
    log_groups = {name for name, r in RESOURCES.items() if r["Type"] == "AWS::Logs::LogGroup"}
    access_log = api_properties()["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]

    assert log_groups == {log_group_of(f) for f in FUNCTIONS} | {access_log}


@pytest.mark.parametrize("function", GATEWAY_FUNCTIONS)
def test_function_times_out_before_api_gateway_does(function: str) -> None:
    assert 1 <= setting(function, "Timeout") < API_GATEWAY_TIMEOUT_SECONDS


@pytest.mark.parametrize("function", GATEWAY_FUNCTIONS)
def test_function_outlasts_a_stalled_operation_and_a_failover(function: str) -> None:
    """A request in a failover: an operation stalled until the socket timeout, then its retry waiting the
    server-selection timeout for the new primary, then a second for the rest of its work. The function
    must still be running to answer (a 503 at worst), not stopped by Lambda (API Gateway's 502)."""
    from shared.data.client import SOCKET_TIMEOUT_MS

    worst_ms = SOCKET_TIMEOUT_MS + DatabaseSettings.from_env({}).mongodb_timeout_ms + 1000

    assert worst_ms <= setting(function, "Timeout") * 1000


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
    reads, decrypts = policy["Statement"]
    assert reads == {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}
    assert decrypts["Fn::If"][0] == "HasSecretsKmsKey"  # a customer-managed key on the secrets
    assert function["Environment"]["Variables"] == {"MONGODB_URI_SECRET_ARN": {"Fn::If": ["IamAuth", "", secret]}}
    assert TEMPLATE["Parameters"]["IndexesMongoDbUriSecretArn"]["Default"] == ""


def test_the_sweep_runs_every_5_minutes_within_its_timeout_and_rolls_back_on_function_errors() -> None:
    assert SCHEDULED_FUNCTIONS == ["SweeperFunction"]
    (event,) = RESOURCES["SweeperFunction"]["Properties"]["Events"].values()
    assert (event["Type"], event["Properties"]["Schedule"]) == ("Schedule", "rate(5 minutes)")
    assert setting("SweeperFunction", "Timeout") < 5 * 60
    gates = GLOBALS["DeploymentPreference"]["Alarms"]["Fn::If"]  # DeploymentAlarms on, or off
    assert gates[0] == "DeploymentAlarmsOn" and {"Ref": "FunctionErrorsAlarm"} in gates[1]
    assert "IgnoreGlobals" not in RESOURCES["SweeperFunction"]  # so its canary has those gates too


@pytest.mark.parametrize("function", BCRYPT_FUNCTIONS)
def test_bcrypt_functions_get_1024_mb_for_cpu(function: str) -> None:
    assert setting(function, "MemorySize") == 1024


def method_settings() -> dict[tuple[str, str], dict[str, Any]]:
    return {(s["ResourcePath"], s["HttpMethod"]): s for s in api_properties()["MethodSettings"]}


def test_api_stage_throttles_every_method_with_parameters() -> None:
    default = method_settings()[("/*", "*")]

    assert default["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert default["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    assert all(s["MetricsEnabled"] is True for s in method_settings().values())  # an entry replaces "/*" "*"


def parameter_value(value: Any, environment: str | None) -> float:
    """A number the template gives directly or through a parameter: its default, or its samconfig value."""
    name = value["Ref"]
    given = overrides(environment) if environment else {}
    return float(given.get(name, TEMPLATE["Parameters"][name]["Default"]))


@pytest.mark.parametrize("environment", [None, *DEPLOY_ENVIRONMENTS])
@pytest.mark.parametrize("path", [*PUBLIC_AUTH_PATHS, STATUS_WRITE])
def test_public_writes_have_stricter_method_throttles_than_the_stage(path: str, environment: str | None) -> None:
    default = method_settings()[("/*", "*")]
    own = method_settings()[(path.replace("/", "~1").join(["/", ""]), "POST")]

    for limit in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
        assert parameter_value(own[limit], environment) < parameter_value(default[limit], environment), limit


def test_method_throttles_name_routes_of_the_template() -> None:
    routes = {
        (event["Properties"]["Path"], event["Properties"]["Method"].upper())
        for name in FUNCTIONS
        for event in (RESOURCES[name]["Properties"].get("Events") or {}).values()
        if event["Type"] == "Api"
    }
    named = {(path[1:].replace("~1", "/"), method) for path, method in method_settings() if path != "/*"}

    assert named
    assert named <= routes


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


RUNTIME_PROVIDED = {"boto3", "snapshot-restore-py"}
"""What Lambda's python3.13 runtime provides: pinned in requirements.txt for the tests, never in the layer."""


def test_layer_requirements_are_the_root_requirements_without_what_the_runtime_provides() -> None:
    root = pins(ROOT / "requirements.txt")

    assert set(root) >= RUNTIME_PROVIDED
    assert pins(ROOT / "layers/shared/requirements.txt") == {k: v for k, v in root.items() if k not in RUNTIME_PROVIDED}


def test_samconfig_builds_cached_and_in_parallel_in_every_environment() -> None:
    assert SAMCONFIG["version"] == 0.1
    for environment in ("default", *DEPLOY_ENVIRONMENTS):
        build = SAMCONFIG[environment]["build"]["parameters"]
        assert (build["cached"], build["parallel"]) == (True, True), environment


@pytest.mark.parametrize("environment", DEPLOY_ENVIRONMENTS)
def test_samconfig_deploys_each_environment_as_its_own_stack(environment: str) -> None:
    deploy = SAMCONFIG[environment]["deploy"]["parameters"]

    assert SAMCONFIG[environment]["global"]["parameters"]["stack_name"] == f"prompt-api-{environment}"
    # NAMED_IAM: MongoAuth=iam's FunctionRole has a fixed name, for the Atlas database user that names it.
    assert deploy["capabilities"].split() == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
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

    environ = {**plain, **parameters, "AWS_LAMBDA_FUNCTION_NAME": "LoginFunction"}
    database, tokens = DatabaseSettings.from_env(environ), TokenSettings.from_env(environ)

    assert database.in_lambda and tokens.in_lambda
    assert database.mongodb_uri == "mongodb://host.docker.internal:27017"
    assert database.mongodb_uri_secret_arn is None
    assert tokens.jwt_secret_arn is None
    assert tokens.jwt_secret is not None


# ---- Operations: alarms, gradual deploys, the edge (docs/operations.md) ----

ALARMS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm")
ROUTE_FUNCTIONS = sorted(
    f for f in FUNCTIONS if any(e["Type"] == "Api" for e in (RESOURCES[f]["Properties"].get("Events") or {}).values())
)
AUTHORIZER = api_properties()["Auth"]["Authorizers"]["JwtAuthorizer"]


def opts_out(function: str, name: str) -> bool:
    """Whether ``function`` ignores the Globals property ``name`` (SAM's IgnoreGlobals attribute)."""
    ignored = RESOURCES[function].get("IgnoreGlobals", [])
    return ignored == "*" or name in ignored


# Only a function API Gateway never calls (a custom resource's handler) may opt out of the alias.
GRADUAL = sorted(f for f in FUNCTIONS if not (opts_out(f, "AutoPublishAlias") and f not in ROUTE_FUNCTIONS))


def deployment_alarms(function: str, *, switch: str = "on") -> list[str]:
    """The alarms that roll back a deploy of ``function`` with DeploymentAlarms=``switch``: Globals' list
    (``!If [DeploymentAlarmsOn, [...], [NoValue]]``), then its own (SAM adds them up)."""
    condition, on, off = GLOBALS["DeploymentPreference"]["Alarms"]["Fn::If"]
    assert TEMPLATE["Conditions"][condition] == {"Fn::Equals": [{"Ref": "DeploymentAlarms"}, "on"]}
    own = RESOURCES[function]["Properties"].get("DeploymentPreference") or {}
    listed = [*(on if switch == "on" else off), *own.get("Alarms", [])]
    return [alarm["Ref"] for alarm in listed if alarm != {"Ref": "AWS::NoValue"}]


@pytest.mark.parametrize("alarm", ALARMS)
def test_every_alarm_notifies_the_topic_and_ignores_missing_data(alarm: str) -> None:
    properties = RESOURCES[alarm]["Properties"]

    assert {"Ref": "AlarmTopic"} in properties["AlarmActions"]
    assert properties["TreatMissingData"] == "notBreaching"
    assert "docs/operations.md" in str(properties["AlarmDescription"])


def test_every_alarm_has_its_section_in_the_runbook() -> None:
    runbook = (ROOT / "docs/operations.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^### (\w+)", runbook, re.M))
    named = {
        re.search(r"Runbook: docs/operations.md, (\w+)\.", str(RESOURCES[a]["Properties"]["AlarmDescription"]))[1]
        for a in ALARMS
    }

    assert named <= sections


def test_alarm_email_subscription_exists_only_when_an_address_is_given() -> None:
    subscription = RESOURCES["AlarmEmailSubscription"]

    assert subscription["Condition"] == "HasAlarmEmail"
    assert TEMPLATE["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert TEMPLATE["Parameters"]["AlarmEmail"]["Default"] == ""
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}


def test_every_function_publishes_the_live_alias_and_deploys_by_the_deployment_type() -> None:
    assert "AuthorizerFunction" in GRADUAL
    assert set(ROUTE_FUNCTIONS) <= set(GRADUAL)
    assert [f for f in GRADUAL if setting(f, "AutoPublishAlias") != ALIAS] == []
    assert GLOBALS["DeploymentPreference"]["Type"] == {"Ref": "DeploymentType"}
    assert TEMPLATE["Parameters"]["DeploymentType"]["Default"] == "AllAtOnce"


@pytest.mark.parametrize("function", GRADUAL)
def test_every_deployment_preference_names_alarms_of_the_template(function: str) -> None:
    alarms = deployment_alarms(function)

    assert alarms
    assert set(alarms) <= set(ALARMS)
    assert len(alarms) <= 10  # CodeDeploy's limit per deployment group
    assert deployment_alarms(function, switch="off") == []  # DeploymentAlarms=off: the override


# What a database outage moves: the API's 5XX (503s) and every duration (the 2 s server selection).
OUTAGE_ALARMS = ("ApiServerErrorsAlarm", "ApiLatencyAlarm", "AuthorizerLatencyAlarm")


@pytest.mark.parametrize("function", GRADUAL)
def test_no_canary_is_rolled_back_by_what_a_database_outage_moves(function: str) -> None:
    assert set(deployment_alarms(function)) & set(OUTAGE_ALARMS) == set()


def alias_dimensions(function: str) -> list[dict[str, Any]]:
    return [
        {"Name": "FunctionName", "Value": {"Ref": function}},
        {"Name": "Resource", "Value": {"Fn::Sub": f"${{{function}}}:{ALIAS}"}},
    ]


# Lambda's JSON system record at the end of each invocation (LogFormat JSON), one per outcome it reports.
INVOCATION_RECORDS = {
    status: {"time": "2026-01-01T00:00:00.000Z", "type": "platform.report", "record": {"status": status}}
    for status in ("success", "error", "timeout", "failure")
}
APPLICATION_RECORD = {"level": "ERROR", "message": "a handled error, logged", "status": "error"}


def json_filter_matches(pattern: str, event: dict[str, Any]) -> bool:
    """CloudWatch Logs' JSON filter pattern ``{ $.a.b = "x" && $.c != "y" && $.d > 0 }`` (the subset used
    here: strings compared for equality, numbers compared with ``>``)."""
    body = re.fullmatch(r"\{(.*)\}", pattern.strip())
    assert body, pattern
    for clause in body[1].split("&&"):
        found = re.fullmatch(r'\s*\$\.([\w.]+)\s*(?:(=|!=)\s*"([^"]*)"|>\s*(\d+))\s*', clause)
        assert found, clause
        path, operator, expected, lower = found.groups()
        value: Any = event
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return False
        if lower is not None:
            if not (isinstance(value, int | float) and value > int(lower)):
                return False
        elif (value == expected) != (operator == "="):
            return False
    return True


# The authorizer's line when MongoDB is unreachable, before it raises (functions/authorizer/app.py).
OUTAGE_RECORD = {"level": "WARNING", "message": "Database unavailable", "failure": "database_unavailable"}


def metric_counts(log_group: str, events: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """What the metric filters on ``log_group`` publish for ``events`` in one minute: (namespace, metric) -> sum."""
    counts: dict[tuple[str, str], float] = {}
    for f in RESOURCES.values():
        if f["Type"] != "AWS::Logs::MetricFilter" or f["Properties"]["LogGroupName"] != {"Ref": log_group}:
            continue
        for m in f["Properties"]["MetricTransformations"]:
            key = (json.dumps(m["MetricNamespace"]), m["MetricName"])
            matched = [e for e in events if json_filter_matches(f["Properties"]["FilterPattern"], e)]
            if matched and m["MetricValue"] == "1":
                counts[key] = counts.get(key, 0) + len(matched)
    return counts


def alarm_value(alarm: str, counts: dict[tuple[str, str], float]) -> float:
    """The value an alarm on sums of log metrics compares with its threshold: its metric, or its metric math
    (the subset used here: ``FILL(a, 0) - FILL(b, 0)``; a metric with no data is missing, FILL makes it 0)."""
    properties = RESOURCES[alarm]["Properties"]
    if "MetricName" in properties:
        return counts.get((json.dumps(properties["Namespace"]), properties["MetricName"]), 0)
    values = {
        m["Id"]: counts.get(
            (json.dumps(m["MetricStat"]["Metric"]["Namespace"]), m["MetricStat"]["Metric"]["MetricName"])
        )
        for m in properties["Metrics"]
        if "MetricStat" in m
    }
    (expression,) = [m["Expression"] for m in properties["Metrics"] if m.get("ReturnData")]
    filled = re.sub(r"FILL\((\w+), 0\)", lambda found: str(values[found[1]] or 0), expression)
    assert re.fullmatch(r"[\d.]+ - [\d.]+", filled), expression
    left, right = filled.split(" - ")
    return float(left) - float(right)


def fires(alarm: str, counts: dict[tuple[str, str], float]) -> bool:
    properties = RESOURCES[alarm]["Properties"]
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    return alarm_value(alarm, counts) >= properties["Threshold"]


def failed(status: str) -> dict[str, Any]:
    return INVOCATION_RECORDS[status]


@pytest.mark.parametrize("status", ["error", "timeout", "failure"])
@pytest.mark.parametrize("function", [*ROUTE_FUNCTIONS, "AuthorizerFunction"])
def test_functions_api_gateway_calls_roll_back_when_one_of_their_invocations_fails(function: str, status: str) -> None:
    log_group = log_group_of(function)
    gates = deployment_alarms(function)

    assert [a for a in gates if fires(a, metric_counts(log_group, [failed(status)]))], function
    assert not [a for a in gates if fires(a, metric_counts(log_group, [failed("success"), APPLICATION_RECORD]))]


def test_the_authorizer_failing_on_an_unreachable_database_rolls_no_deploy_back() -> None:
    log_group = log_group_of("AuthorizerFunction")
    outage = [OUTAGE_RECORD, failed("error")] * 50  # every authorizer call of the minute fails so
    bug = [*outage, failed("error")]  # and one more failure, of anything else

    assert not [a for a in deployment_alarms("AuthorizerFunction") if fires(a, metric_counts(log_group, outage))]
    assert [a for a in deployment_alarms("AuthorizerFunction") if fires(a, metric_counts(log_group, bug))]


def test_a_slow_container_start_rolls_a_deploy_back() -> None:
    # platform.report carries initDurationMs on a cold start; during a shift the new containers are the new version's.
    (init_filter,) = [
        r["Properties"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::Logs::MetricFilter"
        and r["Properties"]["MetricTransformations"][0]["MetricName"] == "InitDuration"
    ]
    alarm = RESOURCES["InitDurationAlarm"]["Properties"]

    assert init_filter["MetricTransformations"][0]["MetricValue"] == "$.record.metrics.initDurationMs"
    assert init_filter["FilterPattern"] == '{ $.type = "platform.report" && $.record.metrics.initDurationMs > 0 }'
    assert (alarm["MetricName"], alarm["Statistic"], alarm["Period"]) == ("InitDuration", "Maximum", 60)
    assert 1000 < alarm["Threshold"] < 10_000  # Lambda stops an init at 10 s
    assert "InitDurationAlarm" in deployment_alarms("AuthorizerFunction")


def test_a_new_function_needs_no_alarm_of_its_own() -> None:
    own = {f: RESOURCES[f]["Properties"].get("DeploymentPreference", {}).get("Alarms", []) for f in FUNCTIONS}
    per_function = [
        a
        for a in ALARMS
        if any(d.get("Name") == "FunctionName" for d in RESOURCES[a]["Properties"].get("Dimensions", []))
    ]

    assert {f: alarms for f, alarms in own.items() if alarms} == {}
    assert per_function == ["AuthorizerLatencyAlarm"]  # it pages; it gates no deploy


def test_authorizer_is_called_through_its_alias_and_pages_on_its_latency() -> None:
    # The alias by ARN (the form SAM CLI's local commands resolve), and the API waits for SAM's alias resource.
    assert AUTHORIZER["FunctionArn"] == {"Fn::Sub": f"${{AuthorizerFunction.Arn}}:{ALIAS}"}
    assert f"AuthorizerFunctionAlias{ALIAS}" in RESOURCES["Api"]["DependsOn"]
    latency = RESOURCES["AuthorizerLatencyAlarm"]["Properties"]
    assert latency["MetricName"] == "Duration"
    assert latency["Dimensions"] == alias_dimensions("AuthorizerFunction")


def test_alarms_cover_api_5xx_function_errors_throttles_and_the_authorizer() -> None:
    watched = [
        (RESOURCES[a]["Properties"].get("Namespace"), RESOURCES[a]["Properties"].get("MetricName")) for a in ALARMS
    ]
    math = str(RESOURCES["ApiServerErrorsAlarm"]["Properties"]["Metrics"])

    assert "'5XXError'" in math and "'Count'" in math
    errors = [
        m["MetricStat"]["Metric"]
        for m in RESOURCES["FunctionErrorsAlarm"]["Properties"]["Metrics"]
        if "MetricStat" in m
    ]
    assert {"Namespace": {"Ref": "MetricsNamespace"}, "MetricName": "FunctionErrors"} in errors
    assert ("AWS/Lambda", "Throttles") in watched
    assert ({"Ref": "MetricsNamespace"}, "ApiThrottled") in watched  # the stage's own 429s


def test_powertools_metrics_namespace_and_service_come_from_the_template() -> None:
    variables = GLOBALS["Environment"]["Variables"]

    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "prompt-api"


# Two stacks of this template in one account and region (samconfig.toml's), as the dashboard's body sees them.
STACKS = {"prompt-api-dev": "PromptApi/dev", "prompt-api-prod": "PromptApi/prod"}
SERVICE = GLOBALS["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]


def dashboard(stack: str = "prompt-api-dev") -> dict[str, Any]:
    values = {
        "AWS::StackName": stack,
        "AWS::Region": "eu-west-1",
        "StageName": "dev",
        "MetricsNamespace": STACKS[stack],
    }
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    data: dict[str, Any] = json.loads(re.sub(r"\$\{([^}!]+)\}", lambda m: values[m[1]], body))
    return data


def physical_name(stack: str, function: str) -> str:
    """The name CloudFormation gives a function without FunctionName: stack, logical id, random suffix."""
    return f"{stack}-{function}-{hashlib.sha256(function.encode()).hexdigest()[:12].upper()}"


def published_metrics(stack: str) -> list[tuple[str, str, dict[str, str]]]:
    """What the stack's functions publish per function: Lambda's metrics by function and by alias or
    version (Resource), and, for those API Gateway calls, Powertools' ColdStart in the stack's namespace."""
    metrics = []
    for function in FUNCTIONS:
        name = physical_name(stack, function)
        resources = [name, f"{name}:{ALIAS}"] if function in GRADUAL else [name]
        for metric in LAMBDA_FUNCTION_METRICS:
            metrics.append(("AWS/Lambda", metric, {"FunctionName": name}))
            metrics += [("AWS/Lambda", metric, {"FunctionName": name, "Resource": r}) for r in resources]
        if function not in CUSTOM_RESOURCE_FUNCTIONS:  # their handlers log_metrics(capture_cold_start_metric=True)
            metrics.append((STACKS[stack], "ColdStart", {"function_name": name, "service": SERVICE}))
    return metrics


def tokens(text: str) -> list[str]:
    """CloudWatch search tokens: split at non-alphanumerics, camel-case humps and digit runs, lower-cased."""
    return [t.lower() for t in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", text)]


def partial_match(term: str, value: str) -> bool:
    wanted, found = tokens(term), tokens(value)
    return any(found[i : i + len(wanted)] == wanted for i in range(len(found) - len(wanted) + 1))


def search_matches(expression: str, namespace: str, metric: str, dimensions: dict[str, str]) -> bool:
    """Whether a metric math ``SEARCH('{Namespace,Dim,...} terms', 'stat', period)`` selects this metric:
    the schema (namespace and exactly these dimension names), then every ``Name="exact"`` and ``Name=partial``
    term (the subset of CloudWatch's search syntax the dashboard uses)."""
    query = re.fullmatch(r"SEARCH\('\{([^}]*)\}(.*)', '[^']+', \d+\)", expression)
    assert query, expression
    schema = [part.strip().strip('"') for part in query[1].split(",")]
    if schema[0] != namespace or sorted(schema[1:]) != sorted(dimensions):
        return False
    properties = {**dimensions, "MetricName": metric}
    for name, exact, partial in re.findall(r'(\w+)=(?:"([^"]*)"|(\S+))', query[2]):
        value = properties.get(name)
        if value is None or (value != exact if exact else not partial_match(partial, value)):
            return False
    return True


def widgets() -> dict[str, list[Any]]:
    return {w["properties"]["title"]: w["properties"].get("metrics", []) for w in dashboard()["widgets"]}


# What the dashboard shows for each function: Lambda's own metrics, and Powertools' cold starts.
LAMBDA_FUNCTION_METRICS = ("Duration", "Errors", "Throttles", "ConcurrentExecutions")
FUNCTION_METRICS = [*(("AWS/Lambda", m) for m in LAMBDA_FUNCTION_METRICS), (STACKS["prompt-api-dev"], "ColdStart")]


@pytest.mark.parametrize(("namespace", "metric"), FUNCTION_METRICS)
def test_dashboard_shows_every_function_api_gateway_calls_and_no_other_stacks(namespace: str, metric: str) -> None:
    own = "prompt-api-dev"
    shown = {
        (title, line[0]["id"]): {
            d.get("FunctionName", d.get("function_name"))
            for stack in STACKS
            for ns, name, d in published_metrics(stack)
            if (ns, name) == (namespace, metric) and search_matches(line[0]["expression"], ns, name, d)
        }
        for title, lines in widgets().items()
        for line in lines
        if isinstance(line[0], dict) and "expression" in line[0]
    }
    expected = {physical_name(own, f) for f in FUNCTIONS if f not in CUSTOM_RESOURCE_FUNCTIONS}

    # Exactly one line shows this metric, once per function: the alias's series, not the function's too.
    assert [found for found in shown.values() if found] == [expected], shown


def test_dashboard_function_widgets_have_no_line_per_function() -> None:
    named = [line for lines in widgets().values() for line in lines if "Function}" in json.dumps(line)]
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]

    assert named == []
    assert not [f for f in FUNCTIONS if f"${{{f}}}" in body]


def test_dashboard_shows_api_traffic_and_the_business_metrics() -> None:
    metrics = [m for lines in widgets().values() for m in lines if isinstance(m[0], str)]
    names = {(m[0], m[1]) for m in metrics}

    assert {("AWS/ApiGateway", n) for n in ("Count", "4XXError", "5XXError", "Latency")} <= names
    business = {n for ns, n in names if ns == STACKS["prompt-api-dev"]}
    assert {metric.value for metric in Metric} <= business  # every business metric (shared.metrics)


def test_waf_resources_exist_only_under_the_enable_waf_condition() -> None:
    waf = {name: r for name, r in RESOURCES.items() if r["Type"].startswith("AWS::WAFv2::")}

    assert {r["Type"] for r in waf.values()} == {"AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation"}
    assert all(r["Condition"] == "WafEnabled" for r in waf.values())
    assert TEMPLATE["Conditions"]["WafEnabled"] == {"Fn::Equals": [{"Ref": "EnableWaf"}, "true"]}
    assert TEMPLATE["Parameters"]["EnableWaf"]["Default"] == "false"
    conditional = [
        name for name, r in RESOURCES.items() if "WebAcl" in json.dumps(r.get("Properties")) and name not in waf
    ]
    assert all(RESOURCES[name].get("Condition") == "WafEnabled" for name in conditional)


def test_waf_is_associated_with_the_stage_and_limits_each_client_address() -> None:
    association = RESOURCES["WebAclAssociation"]["Properties"]
    web_acl = RESOURCES["WebAcl"]["Properties"]
    rate_rules = {
        r["Name"]: r["Statement"]["RateBasedStatement"]
        for r in web_acl["Rules"]
        if "RateBasedStatement" in r["Statement"]
    }

    text, variables = association["ResourceArn"]["Fn::Sub"]
    assert text.endswith("::/restapis/${Api}/stages/${Stage}")
    assert variables == {"Stage": {"Ref": "Api.Stage"}}  # SAM's stage resource: it exists first
    assert web_acl["Scope"] == "REGIONAL"
    assert all(r["AggregateKeyType"] == "IP" for r in rate_rules.values())
    assert "ScopeDownStatement" not in rate_rules["AllRoutesPerIp"]
    auth = re.compile(rate_rules["AuthRoutesPerIp"]["ScopeDownStatement"]["RegexMatchStatement"]["RegexString"])
    for path in PUBLIC_AUTH_PATHS:
        assert auth.match(path) and auth.match("/prod" + path), path
    assert not auth.match("/prod/api/prompts")
    visibility = [web_acl["VisibilityConfig"], *(r["VisibilityConfig"] for r in web_acl["Rules"])]
    assert all(v["CloudWatchMetricsEnabled"] and v["SampledRequestsEnabled"] for v in visibility)


def test_samconfig_prod_rolls_out_gradually_behind_the_waf_and_dev_at_once() -> None:
    prod, dev = overrides("prod"), overrides("dev")

    assert prod["EnableWaf"] == "true"
    assert re.fullmatch(r"(Canary|Linear)10Percent\w+", prod["DeploymentType"])
    assert prod["DeploymentType"] in TEMPLATE["Parameters"]["DeploymentType"]["AllowedValues"]
    assert dev["DeploymentType"] == "AllAtOnce"
    assert dev.get("EnableWaf", "false") == "false"
    assert prod["MetricsNamespace"] != dev["MetricsNamespace"]  # two stacks in one account stay apart


def test_make_sync_deploys_dev_with_the_dev_deploy_parameters_and_prod_has_no_sync() -> None:
    sync = SAMCONFIG["dev"]["sync"]["parameters"]
    deploy = SAMCONFIG["dev"]["deploy"]["parameters"]

    assert sync["parameter_overrides"] == deploy["parameter_overrides"]
    assert sync["capabilities"] == deploy["capabilities"]
    assert "sync" not in SAMCONFIG["prod"]


def test_waf_common_rule_set_only_counts_on_bodies_as_prompts_are_arbitrary_text() -> None:
    (common,) = [r for r in RESOURCES["WebAcl"]["Properties"]["Rules"] if "ManagedRuleGroupStatement" in r["Statement"]]
    overrides_ = common["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]

    assert {o["Name"] for o in overrides_} >= {"SizeRestrictions_BODY", "CrossSiteScripting_BODY"}
    assert all(o["ActionToUse"] == {"Count": {}} for o in overrides_)


def test_the_api_opens_only_after_the_indexes_exist() -> None:
    assert "MongoIndexes" in RESOURCES["Api"]["DependsOn"]
    assert RESOURCES["MongoIndexes"]["Type"] == "Custom::MongoIndexes"


def test_every_function_takes_the_concurrency_cap_so_the_runbooks_count_is_the_templates() -> None:
    # docs/operations.md, Capacity: F is `grep -c 'AWS::Serverless::Function' template.yaml`.
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    capped = [
        f
        for f in FUNCTIONS
        if "ReservedConcurrentExecutions" not in RESOURCES[f]["Properties"]
        and not opts_out(f, "ReservedConcurrentExecutions")
    ]

    assert GLOBALS["ReservedConcurrentExecutions"]["Fn::If"][0] == "CapsConcurrency"
    assert len(capped) == len(FUNCTIONS) == text.count("AWS::Serverless::Function")
    assert "grep -c 'AWS::Serverless::Function' template.yaml" in (ROOT / "docs/operations.md").read_text(
        encoding="utf-8"
    )


GATEWAY_ORIGIN = {"Fn::If": ["OneCorsOrigin", {"Fn::Sub": "'${CorsAllowOrigin}'"}, {"Ref": "AWS::NoValue"}]}


def test_every_gateway_response_names_the_configured_origin_only_when_there_is_one() -> None:
    """A gateway response cannot compare the request's Origin with a list (README, CORS)."""
    responses = api_properties()["GatewayResponses"]

    assert responses
    for kind, response in responses.items():
        assert response["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"] == GATEWAY_ORIGIN, kind


@pytest.mark.parametrize(
    ("origins", "one"),
    [
        ("*", True),
        ("https://app.example.com", True),
        ("https://app.example.com,https://admin.example.com", False),
        ("https://app.example.com, https://admin.example.com", False),
        ("https://a.example.com,https://b.example.com,https://c.example.com", False),
    ],
)
def test_one_cors_origin_condition_tells_one_origin_from_several(origins: str, one: bool) -> None:
    intrinsics = Intrinsics({"CorsAllowOrigin": origins}, {}).with_conditions(TEMPLATE["Conditions"])

    assert intrinsics.condition("OneCorsOrigin") is one
