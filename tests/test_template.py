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
PUBLIC_AUTH_PATHS = ("/api/login", "/api/register", "/api/token/refresh")
ALIAS = "live"
DEPLOY_ENVIRONMENTS = ("dev", "prod")

TEMPLATE: dict[str, Any] = cfn_yaml.load(str(TEMPLATE_PATH))
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
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


@pytest.mark.parametrize("function", GATEWAY_FUNCTIONS)
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


def test_the_sweep_runs_every_5_minutes_within_its_timeout_and_rolls_back_on_its_own_errors() -> None:
    assert SCHEDULED_FUNCTIONS == ["SweeperFunction"]
    (event,) = RESOURCES["SweeperFunction"]["Properties"]["Events"].values()
    assert (event["Type"], event["Properties"]["Schedule"]) == ("Schedule", "rate(5 minutes)")
    assert setting("SweeperFunction", "Timeout") < 5 * 60
    alarm = RESOURCES["SweeperErrorsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Errors")
    assert alarm["Dimensions"][0] == {"Name": "FunctionName", "Value": {"Ref": "SweeperFunction"}}
    assert "SweeperErrorsAlarm" in [
        a["Ref"] for a in RESOURCES["SweeperFunction"]["Properties"]["DeploymentPreference"]["Alarms"]
    ]


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
@pytest.mark.parametrize("path", [*PUBLIC_AUTH_PATHS, "/api/status"])
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


def deployment_alarms(function: str) -> list[str]:
    """The alarms that roll back a deploy of ``function``: Globals' list, then its own (SAM adds them up)."""
    own = RESOURCES[function]["Properties"].get("DeploymentPreference") or {}
    return [alarm["Ref"] for alarm in [*GLOBALS["DeploymentPreference"]["Alarms"], *own.get("Alarms", [])]]


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

    assert "ApiServerErrorsAlarm" in alarms
    assert set(alarms) <= set(ALARMS)
    assert len(alarms) <= 10  # CodeDeploy's limit per deployment group


def alias_dimensions(function: str) -> list[dict[str, Any]]:
    return [
        {"Name": "FunctionName", "Value": {"Ref": function}},
        {"Name": "Resource", "Value": {"Fn::Sub": f"${{{function}}}:{ALIAS}"}},
    ]


@pytest.mark.parametrize("function", [*ROUTE_FUNCTIONS, "AuthorizerFunction"])
def test_functions_api_gateway_calls_roll_back_on_their_own_errors_on_the_alias(function: str) -> None:
    (own,) = [
        a
        for a in deployment_alarms(function)
        if RESOURCES[a]["Properties"].get("MetricName") == "Errors"
        and RESOURCES[a]["Properties"]["Dimensions"] == alias_dimensions(function)
    ]

    assert RESOURCES[own]["Properties"]["Namespace"] == "AWS/Lambda"


def test_authorizer_is_called_through_its_alias_and_rolls_back_on_its_latency() -> None:
    assert AUTHORIZER["FunctionArn"] == {"Ref": "AuthorizerFunction.Alias"}
    latency = RESOURCES["AuthorizerLatencyAlarm"]["Properties"]
    assert latency["MetricName"] == "Duration"
    assert latency["Dimensions"] == alias_dimensions("AuthorizerFunction")
    assert "AuthorizerLatencyAlarm" in deployment_alarms("AuthorizerFunction")


def test_alarms_cover_api_5xx_function_errors_throttles_and_the_authorizer() -> None:
    watched = [
        (RESOURCES[a]["Properties"].get("Namespace"), RESOURCES[a]["Properties"].get("MetricName")) for a in ALARMS
    ]
    math = str(RESOURCES["ApiServerErrorsAlarm"]["Properties"]["Metrics"])

    assert "'5XXError'" in math and "'Count'" in math
    assert ("AWS/Lambda", "Errors") in watched
    assert ("AWS/Lambda", "Throttles") in watched
    assert ({"Ref": "MetricsNamespace"}, "ApiThrottled") in watched  # the stage's own 429s


def test_powertools_metrics_namespace_and_service_come_from_the_template() -> None:
    variables = GLOBALS["Environment"]["Variables"]

    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "prompt-api"


def dashboard() -> dict[str, Any]:
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    data: dict[str, Any] = json.loads(re.sub(r"\$\{([^}]+)\}", r"\1", body))
    return data


def test_dashboard_shows_api_traffic_every_function_and_the_business_metrics() -> None:
    metrics = [m for w in dashboard()["widgets"] for m in w["properties"].get("metrics", [])]
    names = {(m[0], m[1]) for m in metrics}
    functions_with = {
        metric: {m[3] for m in metrics if m[1] == metric and m[2] in ("FunctionName", "function_name")}
        for metric in ("Duration", "Errors", "ColdStart")
    }

    assert {("AWS/ApiGateway", n) for n in ("Count", "4XXError", "5XXError", "Latency")} <= names
    assert all(found == set(GATEWAY_FUNCTIONS) for found in functions_with.values()), functions_with
    business = {n for ns, n in names if ns == "MetricsNamespace"}
    assert business >= {
        "LoginSucceeded",
        "LoginFailed",
        "LoginThrottled",
        "Registered",
        "TokenRefreshed",
        "RefreshReuseDetected",
        "PromptCreated",
        "AuthorizerDenied",
        "ColdStart",
    }


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
    assert RESOURCES["Api"]["DependsOn"] == "MongoIndexes"
    assert RESOURCES["MongoIndexes"]["Type"] == "Custom::MongoIndexes"
