"""Reading a SAM template: short tags, Globals as SAM applies them, authorizer functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from local_api.intrinsics import Intrinsics
from local_api.template import Application, TemplateError, load_application, load_yaml


def _load(tmp_path: Path, template: dict[str, Any], parameters: dict[str, str] | None = None) -> Application:
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(template))
    return load_application(path, Intrinsics(parameters or {}, {"AWS::Region": "eu-west-1"}))


def _function(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "fn/", **properties}}


def _with_authorizer(function_arn: Any) -> dict[str, Any]:
    return {
        "Resources": {
            "Api": {
                "Type": "AWS::Serverless::Api",
                "Properties": {
                    "StageName": "prod",
                    "Auth": {"DefaultAuthorizer": "Jwt", "Authorizers": {"Jwt": {"FunctionArn": function_arn}}},
                },
            },
            "AuthorizerFunction": _function(Handler="app.handler", AutoPublishAlias="live"),
            "EchoFunction": _function(
                Handler="app.handler",
                Events={
                    "Get": {"Type": "Api", "Properties": {"RestApiId": {"Ref": "Api"}, "Path": "/", "Method": "get"}}
                },
            ),
        }
    }


def test_short_tags_load_as_their_long_form(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("A: !Ref Stage\nB: !GetAtt Fn.Arn\nC: !Sub '${Name}'\nD: !Join [',', [a, !Ref Name]]\n")

    assert load_yaml(path) == {
        "A": {"Ref": "Stage"},
        "B": {"Fn::GetAtt": ["Fn", "Arn"]},
        "C": {"Fn::Sub": "${Name}"},
        "D": {"Fn::Join": [",", ["a", {"Ref": "Name"}]]},
    }


def test_globals_merge_maps_and_the_function_overrides_primitives(tmp_path: Path) -> None:
    template = {
        "Globals": {
            "Function": {
                "Handler": "app.global_handler",
                "Timeout": 10,
                "MemorySize": 256,
                "Environment": {"Variables": {"SHARED": "global", "STAGE": {"Ref": "Stage"}, "BOTH": "global"}},
            }
        },
        "Resources": {
            "Fn": _function(
                Handler="app.own_handler",
                Timeout=3,
                Environment={"Variables": {"OWN": "own", "BOTH": "own", "STAGE": {"Fn::Sub": "${Stage}-own"}}},
            )
        },
    }

    function = _load(tmp_path, template, {"Stage": "dev"}).functions["Fn"]

    assert (function.handler, function.timeout_s, function.memory_mb) == ("app.own_handler", 3.0, 256)
    assert function.environment == {"SHARED": "global", "STAGE": "dev-own", "BOTH": "own", "OWN": "own"}


def test_globals_lists_come_before_the_functions_own_items(tmp_path: Path) -> None:
    template = {
        "Globals": {
            "Function": {"Handler": "app.handler"},
            "Api": {"BinaryMediaTypes": ["image~1png"]},
        },
        "Resources": {
            "Api": {
                "Type": "AWS::Serverless::Api",
                "Properties": {"StageName": "prod", "BinaryMediaTypes": ["application~1octet-stream"]},
            },
            "Fn": _function(
                Events={
                    "Get": {"Type": "Api", "Properties": {"RestApiId": {"Ref": "Api"}, "Path": "/", "Method": "get"}}
                }
            ),
        },
    }

    application = _load(tmp_path, template)

    assert application.apis["Api"].binary_media_types == ("image/png", "application/octet-stream")
    assert application.apis["ServerlessRestApi"].binary_media_types == ("image/png",)


@pytest.mark.parametrize(("ignored", "expected"), [(["Timeout"], (3.0, 256)), ("*", (3.0, 128))])
def test_ignore_globals_leaves_out_what_it_names(tmp_path: Path, ignored: Any, expected: tuple[float, int]) -> None:
    template = {
        "Globals": {"Function": {"Handler": "app.handler", "Timeout": 10, "MemorySize": 256}},
        "Resources": {"Fn": {**_function(Handler="app.handler"), "IgnoreGlobals": ignored}},
    }

    function = _load(tmp_path, template).functions["Fn"]

    assert (function.timeout_s, function.memory_mb) == expected


@pytest.mark.parametrize(
    "function_arn",
    [
        {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]},
        {"Fn::GetAtt": ["AuthorizerFunction", "Alias"]},
        {"Ref": "AuthorizerFunction"},
        {"Ref": "AuthorizerFunction.Alias"},
        {"Fn::Sub": "${AuthorizerFunction.Alias}"},
        {"Fn::Sub": "${AuthorizerFunction.Arn}"},
        {"Fn::Sub": "${AuthorizerFunction.Arn}:live"},  # the alias by ARN, as template.yaml spells it
    ],
)
def test_authorizer_function_arn_names_the_function_with_or_without_its_alias(
    tmp_path: Path, function_arn: dict[str, Any]
) -> None:
    application = _load(tmp_path, _with_authorizer(function_arn))

    assert application.apis["Api"].authorizers["Jwt"].function_id == "AuthorizerFunction"
    assert [route.authorizer for route in application.routes] == ["Jwt"]


def test_alias_short_tags_name_the_function_too(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        yaml.safe_dump(_with_authorizer("PLACEHOLDER")).replace("PLACEHOLDER", "!GetAtt AuthorizerFunction.Alias")
    )
    by_get_att = load_application(path, Intrinsics({}, {}))
    path.write_text(
        yaml.safe_dump(_with_authorizer("PLACEHOLDER")).replace("PLACEHOLDER", "!Ref AuthorizerFunction.Alias")
    )
    by_ref = load_application(path, Intrinsics({}, {}))

    assert by_get_att.apis["Api"].authorizers["Jwt"].function_id == "AuthorizerFunction"
    assert by_ref.apis["Api"].authorizers["Jwt"].function_id == "AuthorizerFunction"


@pytest.mark.parametrize(
    ("function_arn", "message"),
    [
        ({"Ref": "OtherFunction.Alias"}, "OtherFunction is not a function here"),
        ({"Fn::GetAtt": ["AuthorizerFunction", "Role"]}, "not a function's Arn, Alias or Version"),
        ("arn:aws:lambda:eu-west-1:123456789012:function:elsewhere", "does not name a function of this template"),
    ],
)
def test_authorizer_function_arn_outside_the_template_is_refused(
    tmp_path: Path, function_arn: Any, message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        _load(tmp_path, _with_authorizer(function_arn))
