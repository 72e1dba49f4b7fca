"""The local API's configuration layers: parameter overrides and each function's environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_api.environment import EnvironmentPlan, parameter_overrides, parse_parameter_overrides
from local_api.template import Function


def test_parameter_overrides_accept_quoted_values_and_lists() -> None:
    assert parameter_overrides({"parameter_overrides": "A=1 B='x y' C=\"z\""}) == {"A": "1", "B": "x y", "C": "z"}
    assert parameter_overrides({"parameter_overrides": ["A=1", "B=two"]}) == {"A": "1", "B": "two"}
    assert parameter_overrides({}) == {}


def test_parameter_overrides_accept_sams_command_line_forms() -> None:
    given = ["A=1", "B='x y' ParameterKey=C,ParameterValue=three", "ParameterKey=D,ParameterValue=a=b"]

    assert parse_parameter_overrides(given) == {"A": "1", "B": "x y", "C": "three", "D": "a=b"}


@pytest.mark.parametrize("item", ["A", "=1", "B= C"])
def test_parameter_override_of_neither_form_is_an_error(item: str) -> None:
    with pytest.raises(ValueError, match="expected Key=Value"):
        parse_parameter_overrides([item])


def test_process_environment_wins_over_template_and_env_file() -> None:
    function = Function("Fn", Path("."), "app.handler", 128, 3, {"A": "template", "B": "template", "C": "template"})
    env_file = {"Parameters": {"B": "file", "D": "file"}, "Fn": {"C": "file-own"}}

    plan = EnvironmentPlan.build({"Fn": function}, env_file, {"E": "local"}, {"A": "process", "Z": "unrelated"})

    assert plan.per_function["Fn"] == {"A": "process", "B": "file", "C": "file-own", "D": "file", "E": "local"}
