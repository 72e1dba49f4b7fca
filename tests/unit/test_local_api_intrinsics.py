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
