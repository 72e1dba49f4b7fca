"""The deploy options of template.yaml, each on and off, as CloudFormation will create them.

SAM's own translator (``tests/sam_translate.py``, in ``.venv-sam``) turns the template into the
CloudFormation template a deploy submits; then the conditions are evaluated for the option's parameter
values, as CloudFormation does: resources whose condition is false are left out, ``Fn::If`` takes its
branch, ``AWS::NoValue`` drops the property or list item. Also the template's ``Rules``, which
CloudFormation checks before creating anything. Skipped without ``.venv-sam``, failed where ``CI=true``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
SAM_PYTHON = ROOT / ".venv-sam/bin/python"
TRANSLATE = ROOT / "tests/sam_translate.py"
TEMPLATE: dict[str, Any] = cfn_yaml.load(str(TEMPLATE_PATH))
PARAMETERS: dict[str, Any] = TEMPLATE["Parameters"]

URI_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prompt-api/dev/mongodb-uri-AbCdEf"
IAM_URI = "mongodb+srv://cluster0.abcde.mongodb.net/?authSource=%24external&authMechanism=MONGODB-AWS"
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VPC_POLICY = ":iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"  # after arn:aws or arn:${AWS::Partition}
NO_VALUE = {"Ref": "AWS::NoValue"}

PASSWORD = {"MongoDbUriSecretArn": URI_SECRET}
IAM = {"MongoAuth": "iam", "MongoDbUri": IAM_URI}
VPC = {"SubnetIds": "subnet-0a,subnet-0b", "SecurityGroupIds": "sg-0c"}
KMS = {"SecretsKmsKeyArn": KMS_KEY}

pytestmark = pytest.mark.skipif(
    not SAM_PYTHON.exists() and os.environ.get("CI") != "true",
    reason="no SAM CLI venv (.venv-sam): make sam-install",
)


@cache
def _translated(parameters: str, uploaded: str = "{}") -> dict[str, Any]:
    done = subprocess.run(
        [str(SAM_PYTHON), str(TRANSLATE), str(TEMPLATE_PATH), parameters, uploaded],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    translated: dict[str, Any] = json.loads(done.stdout)
    return translated


def values_of(given: dict[str, str]) -> dict[str, Any]:
    """Every parameter's value for a deploy: given, else its default; lists split as CloudFormation does."""
    values: dict[str, Any] = {}
    for name, spec in PARAMETERS.items():
        value = str(given.get(name, spec.get("Default", "")))
        values[name] = value.split(",") if spec["Type"] == "CommaDelimitedList" else value
    return values


class Stack:
    """The resources, outputs and rules of one deploy, with its conditions evaluated."""

    def __init__(self, given: dict[str, str], *, uploaded: dict[str, str] | None = None) -> None:
        """``uploaded``: resources whose code is new (``tests/sam_translate.py``)."""
        unknown = set(given) - set(PARAMETERS)
        assert not unknown, unknown
        self.values = values_of(given)
        self.translated = _translated(json.dumps(given, sort_keys=True), json.dumps(uploaded or {}, sort_keys=True))
        self.conditions = self.translated.get("Conditions", {})
        self.resources = {
            name: self.resolve(r)
            for name, r in self.translated["Resources"].items()
            if "Condition" not in r or self.condition(r["Condition"])
        }
        self.outputs = {
            name: o
            for name, o in self.translated.get("Outputs", {}).items()
            if "Condition" not in o or self.condition(o["Condition"])
        }

    def value(self, node: Any) -> Any:
        """A value in a condition or a rule: a parameter's, or a literal."""
        if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] in self.values:
            return self.values[node["Ref"]]
        if isinstance(node, dict) and "Fn::Join" in node:
            separator, items = node["Fn::Join"]
            listed = self.value(items) if isinstance(items, dict) else items
            return separator.join(str(v) for item in listed for v in _list(self.value(item)))
        if isinstance(node, dict) and set(node) == {"Fn::Select"}:
            index, items = node["Fn::Select"]
            return _list(self.value(items))[int(index)]
        if isinstance(node, dict) and set(node) == {"Fn::Split"}:
            separator, source = node["Fn::Split"]
            return str(self.value(source)).split(separator)
        if isinstance(node, dict) and set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
            return re.sub(r"\$\{(\w+)\}", lambda m: str(self.values[m.group(1)]), node["Fn::Sub"])
        assert not isinstance(node, dict), node
        return node

    def test(self, node: Any) -> bool:
        """A condition or a rule's assertion (Fn::Equals, Not, And, Or, Condition, EachMemberEquals)."""
        (function, arguments), *_ = node.items()
        if function == "Condition":
            return self.condition(arguments)
        if function == "Fn::Equals":
            left, right = arguments
            return bool(self.value(left) == self.value(right))
        if function == "Fn::Not":
            return not self.test(arguments[0])
        if function == "Fn::And":
            return all(self.test(a) for a in arguments)
        if function == "Fn::Or":
            return any(self.test(a) for a in arguments)
        if function == "Fn::EachMemberEquals":
            members, expected = arguments
            return all(m == self.value(expected) for m in _list(self.value(members)))
        raise AssertionError(node)

    def condition(self, name: str) -> bool:
        return self.test(self.conditions[name])

    def resolve(self, node: Any) -> Any:
        """``node`` as CloudFormation sees it: ``Fn::If`` decided, ``AWS::NoValue`` dropped, parameters' values."""
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in self.values:
                return self.values[node["Ref"]]
            if set(node) == {"Fn::If"}:
                condition, yes, no = node["Fn::If"]
                return self.resolve(yes if self.condition(condition) else no)
            resolved = {k: self.resolve(v) for k, v in node.items()}
            return {k: v for k, v in resolved.items() if v != NO_VALUE}
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v != NO_VALUE]
        return node

    def failed_rules(self) -> list[str]:
        """The rules CloudFormation would refuse this deploy with, by name."""
        failed = []
        for name, rule in TEMPLATE.get("Rules", {}).items():
            if "RuleCondition" in rule and not self.test(rule["RuleCondition"]):
                continue
            if not all(self.test(a["Assert"]) for a in rule["Assertions"]):
                failed.append(name)
        return failed

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == kind}

    @property
    def functions(self) -> dict[str, dict[str, Any]]:
        return {name: r["Properties"] for name, r in self.of_type("AWS::Lambda::Function").items()}

    def role_of(self, function: str) -> str:
        role = self.functions[function]["Role"]
        assert set(role) == {"Fn::GetAtt"} and role["Fn::GetAtt"][1] == "Arn", role
        name: str = role["Fn::GetAtt"][0]
        assert self.resources[name]["Type"] == "AWS::IAM::Role", name
        return name

    def statements(self, role: str) -> list[dict[str, Any]]:
        """Every statement a role is granted: its inline policies' and its managed policies' of the stack."""
        properties = self.resources[role]["Properties"]
        found = [s for p in properties.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
        for arn in properties.get("ManagedPolicyArns", []):
            if isinstance(arn, dict) and "Ref" in arn:
                found += self.resources[arn["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
        return found

    def managed_arns(self, role: str) -> list[Any]:
        return list(self.resources[role]["Properties"].get("ManagedPolicyArns", []))

    def secrets_read_by(self, role: str) -> list[Any]:
        return [s["Resource"] for s in self.statements(role) if s["Action"] == "secretsmanager:GetSecretValue"]

    def environment(self, function: str) -> dict[str, Any]:
        variables: dict[str, Any] = self.functions[function]["Environment"]["Variables"]
        return variables


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def password() -> Stack:
    return Stack(PASSWORD)


@pytest.fixture(scope="module")
def iam() -> Stack:
    return Stack(IAM)


# ---- MongoAuth: password (a URI secret, a role per function) or iam (one named role, a URI without secret) ----


PREFLIGHT = "PreflightFunction"
"""The one function that reads no database and no secret (CORS preflights)."""


def test_password_auth_gives_each_function_a_role_of_its_own_that_reads_the_uri_secret(password: Stack) -> None:
    roles = {f: password.role_of(f) for f in password.functions if f != PREFLIGHT}

    assert password.failed_rules() == []
    assert "FunctionRole" not in password.resources
    assert len(set(roles.values())) == len(roles)
    assert {f: password.environment(f)["MONGODB_URI_SECRET_ARN"] for f in roles} == dict.fromkeys(roles, URI_SECRET)
    assert {f: password.environment(f)["MONGODB_URI"] for f in roles} == dict.fromkeys(roles, "")
    assert {f: password.secrets_read_by(r).count(URI_SECRET) for f, r in roles.items()} == dict.fromkeys(roles, 1)
    assert "FunctionRoleArn" not in password.outputs
    assert password.role_of(PREFLIGHT) not in roles.values()
    assert password.secrets_read_by(password.role_of(PREFLIGHT)) == []


def test_iam_auth_runs_every_function_as_the_one_role_an_atlas_user_names(iam: Stack) -> None:
    role = iam.resources["FunctionRole"]["Properties"]

    assert iam.failed_rules() == []
    assert {iam.role_of(f) for f in iam.functions} == {"FunctionRole"}
    # A name, so its ARN survives a failed first deploy, a rollback and a re-creation of the stack.
    assert role["RoleName"] == {"Fn::Sub": "${AWS::StackName}-functions"}
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert iam.outputs["FunctionRoleArn"]["Value"] == {"Fn::GetAtt": ["FunctionRole", "Arn"]}
    assert [name for name, r in iam.of_type("AWS::IAM::Role").items() if "CodeDeploy" not in name] == ["FunctionRole"]


def test_iam_auth_gives_the_functions_the_uri_and_no_uri_secret(iam: Stack) -> None:
    secrets = iam.secrets_read_by("FunctionRole")

    assert {f: iam.environment(f)["MONGODB_URI"] for f in iam.functions} == dict.fromkeys(iam.functions, IAM_URI)
    assert {f: iam.environment(f)["MONGODB_URI_SECRET_ARN"] for f in iam.functions} == dict.fromkeys(iam.functions, "")
    assert secrets == [{"Ref": "JwtSecret"}]  # the signing key, nothing of the database
    assert "ReadDatabaseSecretPolicy" not in iam.resources


def test_iam_role_has_what_lambda_needs_to_run_log_and_trace(iam: Stack) -> None:
    arns = iam.managed_arns("FunctionRole")

    assert {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"} in arns
    assert {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXrayWriteOnlyAccess"} in arns


@pytest.mark.parametrize(
    ("given", "refused"),
    [
        ({}, ["PasswordAuthHasAUriSecret"]),
        ({"MongoAuth": "iam"}, ["IamAuthHasAUriAndNoSecret"]),
        ({**IAM, "MongoDbUriSecretArn": URI_SECRET}, ["IamAuthHasAUriAndNoSecret"]),
        ({**IAM, "IndexesMongoDbUriSecretArn": URI_SECRET}, ["IamAuthHasAUriAndNoSecret"]),
        ({**PASSWORD, "SubnetIds": "subnet-0a"}, ["VpcHasSecurityGroups"]),
        ({**PASSWORD, "SecurityGroupIds": "sg-0c"}, ["VpcHasSecurityGroups"]),
    ],
)
def test_rules_refuse_a_deploy_missing_what_its_mode_needs(given: dict[str, str], refused: list[str]) -> None:
    assert Stack(given).failed_rules() == refused


@pytest.mark.parametrize(
    ("uri", "accepted"),
    [
        (IAM_URI, True),
        ("mongodb://10.0.0.5:27017,10.0.0.6:27017/?authMechanism=MONGODB-AWS&authSource=%24external", True),
        ("mongodb+srv://ada:secret@cluster0.abcde.mongodb.net/?authMechanism=MONGODB-AWS", False),
        ("mongodb+srv://cluster0.abcde.mongodb.net/?authSource=admin", False),
        ("", True),  # MongoAuth=password; the rule requires it with iam
    ],
)
def test_the_iam_uri_parameter_takes_no_credentials(uri: str, accepted: bool) -> None:
    assert (re.fullmatch(PARAMETERS["MongoDbUri"]["AllowedPattern"], uri) is not None) == accepted


# ---- Private networking: SubnetIds and SecurityGroupIds ----


@pytest.mark.parametrize("mode", [PASSWORD, IAM], ids=["password", "iam"])
def test_vpc_option_puts_every_function_in_the_subnets_with_eni_permissions(mode: dict[str, str]) -> None:
    stack = Stack({**mode, **VPC})

    assert stack.failed_rules() == []
    assert {f: p.get("VpcConfig") for f, p in stack.functions.items()} == {
        key: {"SubnetIds": ["subnet-0a", "subnet-0b"], "SecurityGroupIds": ["sg-0c"]} for key in stack.functions
    }
    eni = [f for f in stack.functions if VPC_POLICY in json.dumps(stack.managed_arns(stack.role_of(f)))]
    assert eni == list(stack.functions)


@pytest.mark.parametrize("mode", [PASSWORD, IAM], ids=["password", "iam"])
def test_without_subnets_no_function_is_in_a_vpc(mode: dict[str, str]) -> None:
    stack = Stack(mode)

    assert [f for f, p in stack.functions.items() if "VpcConfig" in p] == []


def test_without_subnets_the_iam_role_has_no_eni_permissions(iam: Stack) -> None:
    # SAM's generated roles (MongoAuth=password) get AWSLambdaVPCAccessExecutionRole whenever VpcConfig is
    # written, even as an !If (docs/operations.md says so); the role of the template follows InVpc.
    assert VPC_POLICY not in json.dumps(iam.managed_arns("FunctionRole"))


# ---- A customer-managed KMS key on the secrets ----


def kms_statements(stack: Stack, role: str) -> list[dict[str, Any]]:
    return [s for s in stack.statements(role) if str(s["Action"]).startswith("kms:")]


@pytest.mark.parametrize("mode", [PASSWORD, IAM], ids=["password", "iam"])
def test_a_kms_key_encrypts_the_jwt_secret_and_every_secret_reader_may_decrypt_through_secrets_manager(
    mode: dict[str, str],
) -> None:
    stack = Stack({**mode, **KMS})
    readers = {stack.role_of(f) for f in stack.functions if stack.secrets_read_by(stack.role_of(f))}
    expected = {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": KMS_KEY,
        "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}}},
    }

    assert stack.resources["JwtSecret"]["Properties"]["KmsKeyId"] == KMS_KEY
    assert readers == {stack.role_of(f) for f in stack.functions if f != PREFLIGHT}  # every other function reads one
    assert {r: {json.dumps(s) for s in kms_statements(stack, r)} for r in readers} == {
        key: {json.dumps(expected)} for key in readers
    }


@pytest.mark.parametrize("mode", [PASSWORD, IAM], ids=["password", "iam"])
def test_without_a_kms_key_the_secrets_use_the_aws_managed_key_and_no_role_has_kms(mode: dict[str, str]) -> None:
    stack = Stack(mode)

    assert "KmsKeyId" not in stack.resources["JwtSecret"]["Properties"]
    assert {r: kms_statements(stack, r) for r in stack.of_type("AWS::IAM::Role")} == {
        key: [] for key in stack.of_type("AWS::IAM::Role")
    }


# ---- Deploy gates: DeploymentAlarms on (the default) and off (the override) ----


def deployment_group_alarms(stack: Stack) -> dict[str, list[Any]]:
    return {
        name: [a["Name"] for a in r["Properties"].get("AlarmConfiguration", {}).get("Alarms", [])]
        for name, r in stack.of_type("AWS::CodeDeploy::DeploymentGroup").items()
    }


def test_every_canary_is_gated_on_failures_and_container_starts_not_on_the_api_5xx(password: Stack) -> None:
    groups = deployment_group_alarms(password)
    assert groups
    assert len(groups) == len(password.of_type("AWS::Lambda::Alias"))
    assert set(map(json.dumps, groups.values())) == {
        json.dumps([{"Ref": "FunctionErrorsAlarm"}, {"Ref": "InitDurationAlarm"}])
    }
    configurations = [
        r["Properties"]["AlarmConfiguration"] for r in password.of_type("AWS::CodeDeploy::DeploymentGroup").values()
    ]
    assert {c["Enabled"] for c in configurations} == {True}


def test_deployment_alarms_off_deploys_without_any_gate_and_the_alarms_still_page() -> None:
    stack = Stack({**PASSWORD, "DeploymentAlarms": "off"})

    assert deployment_group_alarms(stack) == {key: [] for key in deployment_group_alarms(stack)}
    assert deployment_group_alarms(stack)
    assert {"FunctionErrorsAlarm", "InitDurationAlarm", "ApiServerErrorsAlarm"} <= set(
        stack.of_type("AWS::CloudWatch::Alarm")
    )


# ---- CORS: gateway responses name the one configured origin, or none of several ----


@pytest.mark.parametrize(
    ("origins", "named"),
    [
        ("*", "'*'"),
        ("https://app.example.com", "'https://app.example.com'"),
        ("https://app.example.com,https://admin.example.com", None),
    ],
)
def test_gateway_responses_name_the_configured_origin_only_when_it_is_one(origins: str, named: str | None) -> None:
    stack = Stack({**PASSWORD, "CorsAllowOrigin": origins})
    (api,) = stack.of_type("AWS::ApiGateway::RestApi").values()
    responses = api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]

    assert responses
    for kind, response in responses.items():
        header = response["responseParameters"].get("gatewayresponse.header.Access-Control-Allow-Origin")
        if named is None:
            assert header is None, kind
        else:
            assert header == {"Fn::Sub": named.replace(origins, "${CorsAllowOrigin}")}, kind


# ---- SnapStart: off by default; on, for every function's published versions ----


def published_versions(stack: Stack) -> dict[str, str]:
    """Each function that publishes versions (the alias live), and its version's resource."""
    versions = stack.of_type("AWS::Lambda::Version")
    return {version["Properties"]["FunctionName"]["Ref"]: name for name, version in versions.items()}


def test_a_new_layer_publishes_a_new_version_of_every_function_and_new_code_of_its_own() -> None:
    """A deploy reaches the alias live only through a new version: one whose code is only in the layer
    (a change to shared/, or to its requirements) must publish one for every function, as new code in a
    function's own folder does for that function alone."""
    before = published_versions(Stack(PASSWORD))
    new_layer = published_versions(Stack(PASSWORD, uploaded={"SharedLayer": "v2"}))
    new_login = published_versions(Stack(PASSWORD, uploaded={"LoginFunction": "v2"}))

    assert before
    assert {f for f in before if new_layer[f] != before[f]} == set(before)
    assert {f for f in before if new_login[f] != before[f]} == {"LoginFunction"}


@pytest.mark.parametrize(
    ("given", "snapstart"),
    [({}, None), ({"SnapStart": "off"}, None), ({"SnapStart": "on"}, {"ApplyOn": "PublishedVersions"})],
    ids=["default", "off", "on"],
)
def test_snapstart_is_on_every_published_function_exactly_when_the_option_is_on(
    given: dict[str, str], snapstart: dict[str, str] | None
) -> None:
    stack = Stack({**PASSWORD, **given})
    versions = published_versions(stack)

    assert stack.failed_rules() == []
    assert set(stack.functions) - set(versions) == {"IndexesFunction"}  # the deploy's custom resource: $LATEST
    assert {f: p.get("SnapStart") for f, p in stack.functions.items()} == {
        f: snapstart if f in versions else None for f in stack.functions
    }
    # SAM's version ids cannot see the option (they hash the code and literal settings): each version's
    # description follows it, so that turning it on or off publishes new versions (CloudFormation replaces
    # a version whose description changes).
    description = "SnapStart" if snapstart else None
    assert {f: stack.resources[v]["Properties"].get("Description") for f, v in versions.items()} == dict.fromkeys(
        versions, description
    )
