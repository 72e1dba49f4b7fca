"""The local API's intrinsic functions: what resolves without deploying, and what cannot."""

from __future__ import annotations

import pytest

from local_api.intrinsics import Intrinsics, Unresolvable, is_intrinsic


def _intrinsics() -> Intrinsics:
    return Intrinsics({"Stage": "dev", "Name": "ada"}, {"AWS::Region": "eu-west-1"})


def test_intrinsics_resolve_parameters_pseudo_parameters_sub_and_join() -> None:
    intrinsics = _intrinsics()

    assert intrinsics.string({"Ref": "Stage"}) == "dev"
    assert intrinsics.string({"Fn::Sub": "${Name}-${AWS::Region}-${!Literal}"}) == "ada-eu-west-1-${Literal}"
    assert intrinsics.string({"Fn::Sub": ["${X}/${Stage}", {"X": {"Ref": "Name"}}]}) == "ada/dev"
    assert intrinsics.string({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-dev"


@pytest.mark.parametrize(
    "value",
    [{"Ref": "JwtSecret"}, {"Fn::GetAtt": ["Fn", "Arn"]}, {"Fn::Sub": "${Fn.Arn}"}, {"Fn::If": ["C", "a", "b"]}],
)
def test_intrinsics_refuse_what_only_exists_once_deployed(value: object) -> None:
    with pytest.raises(Unresolvable):
        _intrinsics().resolve(value)


def test_is_intrinsic_knows_one_key_functions_from_maps() -> None:
    assert is_intrinsic({"Ref": "X"})
    assert is_intrinsic({"Fn::Sub": "${X}"})
    assert not is_intrinsic({"Variables": {"A": "1"}})
    assert not is_intrinsic({"Ref": "X", "Other": 1})
    assert not is_intrinsic("Ref")


CONDITIONS = {
    "IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]},
    "NotDev": {"Fn::Not": [{"Condition": "IsDev"}]},
    "DevAndAda": {"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": [{"Ref": "Name"}, "ada"]}]},
    "DevOrProd": {"Fn::Or": [{"Condition": "NotDev"}, {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}]},
}


@pytest.mark.parametrize(
    ("condition", "expected"), [("IsDev", "a"), ("NotDev", "b"), ("DevAndAda", "a"), ("DevOrProd", "b")]
)
def test_if_takes_the_branch_its_condition_chooses(condition: str, expected: str) -> None:
    intrinsics = _intrinsics().with_conditions(CONDITIONS)

    assert intrinsics.string({"Fn::If": [condition, "a", "b"]}) == expected


def test_no_value_drops_the_key_or_the_item_it_is_the_value_of() -> None:
    intrinsics = _intrinsics().with_conditions(CONDITIONS)
    no_value = {"Fn::If": ["NotDev", "x", {"Ref": "AWS::NoValue"}]}

    assert intrinsics.resolve({"Kept": "k", "Dropped": no_value}) == {"Kept": "k"}
    assert intrinsics.resolve(["k", no_value]) == ["k"]


def test_a_condition_the_template_does_not_define_is_unresolvable() -> None:
    with pytest.raises(Unresolvable):
        _intrinsics().with_conditions(CONDITIONS).resolve({"Fn::If": ["Missing", "a", "b"]})
