"""The local API's parsing pieces on their own: template tags, intrinsics, routing, policies."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_api.authorizer import Policy
from local_api.environment import EnvironmentPlan, parameter_overrides
from local_api.routing import Router
from local_api.template import Api, Function, Resolver, Route, Unresolvable, load_yaml

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc/prod"


def _resolver() -> Resolver:
    return Resolver({"Stage": "dev", "Name": "ada"}, {"AWS::Region": "eu-west-1"})


def test_short_tags_load_as_their_long_form(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("A: !Ref Stage\nB: !GetAtt Fn.Arn\nC: !Sub '${Name}'\nD: !Join [',', [a, !Ref Name]]\n")

    assert load_yaml(path) == {
        "A": {"Ref": "Stage"},
        "B": {"Fn::GetAtt": ["Fn", "Arn"]},
        "C": {"Fn::Sub": "${Name}"},
        "D": {"Fn::Join": [",", ["a", {"Ref": "Name"}]]},
    }


def test_resolver_resolves_parameters_pseudo_parameters_sub_and_join() -> None:
    resolver = _resolver()

    assert resolver.string({"Ref": "Stage"}) == "dev"
    assert resolver.string({"Fn::Sub": "${Name}-${AWS::Region}-${!Literal}"}) == "ada-eu-west-1-${Literal}"
    assert resolver.string({"Fn::Sub": ["${X}/${Stage}", {"X": {"Ref": "Name"}}]}) == "ada/dev"
    assert resolver.string({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-dev"


@pytest.mark.parametrize(
    "value",
    [{"Ref": "JwtSecret"}, {"Fn::GetAtt": ["Fn", "Arn"]}, {"Fn::Sub": "${Fn.Arn}"}, {"Fn::If": ["C", "a", "b"]}],
)
def test_resolver_refuses_what_only_exists_once_deployed(value: object) -> None:
    with pytest.raises(Unresolvable):
        _resolver().resolve(value)


def test_parameter_overrides_accept_quoted_values_and_lists() -> None:
    assert parameter_overrides({"parameter_overrides": "A=1 B='x y' C=\"z\""}) == {"A": "1", "B": "x y", "C": "z"}
    assert parameter_overrides({"parameter_overrides": ["A=1", "B=two"]}) == {"A": "1", "B": "two"}
    assert parameter_overrides({}) == {}


def test_router_prefers_literal_then_parameter_then_greedy() -> None:
    api = Api("Api", "prod")
    router = Router(
        [
            Route(api, "Literal", "/items/public", "GET", None),
            Route(api, "Param", "/items/{id}", "GET", None),
            Route(api, "Greedy", "/items/{proxy+}", "ANY", None),
        ]
    )

    def target(path: str) -> tuple[str, dict[str, str]] | None:
        match = router.match(path)
        if match is None:
            return None
        route = match.resource.route_for("GET")
        assert route is not None
        return route.function_id, match.params

    assert target("/items/public") == ("Literal", {})
    assert target("/items/a%2Fb") == ("Param", {"id": "a/b"})
    assert target("/items/a/b") == ("Greedy", {"proxy": "a/b"})
    assert target("/items") is None
    assert target("/other") is None


def test_policy_wildcards_and_explicit_deny() -> None:
    def policy(*statements: tuple[str, str]) -> Policy:
        return Policy.parse(
            {
                "principalId": "u",
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": effect, "Action": "execute-api:Invoke", "Resource": [resource]}
                        for effect, resource in statements
                    ],
                },
            }
        )

    allow_all = policy(("Allow", f"{ARN}/*/*"))
    allow_get = policy(("Allow", f"{ARN}/GET/*"))
    deny_delete = policy(("Allow", f"{ARN}/*"), ("Deny", f"{ARN}/DELETE/api/prompts/*"))

    assert allow_all.effect_for(f"{ARN}/POST/api/prompts") == "Allow"
    assert allow_get.effect_for(f"{ARN}/GET/api/prompts/1") == "Allow"
    assert allow_get.effect_for(f"{ARN}/POST/api/prompts") is None
    assert deny_delete.effect_for(f"{ARN}/DELETE/api/prompts/1") == "Deny"
    assert deny_delete.effect_for(f"{ARN}/GET/api/prompts/1") == "Allow"


def test_policy_without_principal_is_refused() -> None:
    with pytest.raises(ValueError, match="principalId"):
        Policy.parse({"policyDocument": {"Statement": []}})


def test_process_environment_wins_over_template_and_env_file() -> None:
    function = Function("Fn", Path("."), "app.handler", 128, 3, {"A": "template", "B": "template", "C": "template"})
    env_file = {"Parameters": {"B": "file", "D": "file"}, "Fn": {"C": "file-own"}}

    plan = EnvironmentPlan.build({"Fn": function}, env_file, {"E": "local"}, {"A": "process", "Z": "unrelated"})

    assert plan.per_function["Fn"] == {"A": "process", "B": "file", "C": "file-own", "D": "file", "E": "local"}
