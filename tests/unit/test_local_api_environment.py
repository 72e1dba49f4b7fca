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


def _plan(env_file: dict[str, dict[str, str]], process: dict[str, str] | None = None) -> EnvironmentPlan:
    functions = {
        name: Function(name, Path("."), "app.handler", 128, 3, {"MONGODB_DB_NAME": "emergent_db", "OTHER": name})
        for name in ("AFn", "BFn", "CFn")
    }
    return EnvironmentPlan.build(functions, env_file, {}, process or {})


def test_one_value_for_every_function_is_accepted() -> None:
    plan = _plan({"Parameters": {"MONGODB_DB_NAME": "mine"}, "BFn": {"OTHER": "own"}})

    plan.require_one_value(["MONGODB_DB_NAME"], {}, why="shared", env_file="env.local.json")

    assert {env["MONGODB_DB_NAME"] for env in plan.per_function.values()} == {"mine"}


def test_a_functions_own_value_of_a_process_wide_variable_is_refused_naming_both() -> None:
    plan = _plan({"BFn": {"MONGODB_DB_NAME": "other_db"}})

    with pytest.raises(ValueError, match=r"^BFn: a MONGODB_DB_NAME of its own is not supported") as refused:
        plan.require_one_value(["MONGODB_DB_NAME"], {}, why="one client", env_file="env.local.json")

    assert "'Parameters' in env.local.json" in str(refused.value)
    assert "other_db" not in str(refused.value)  # values (a URI's password) are never shown


def test_the_shell_wins_so_a_functions_own_value_is_then_harmless() -> None:
    process = {"MONGODB_DB_NAME": "from_shell", "MONGODB_TIMEOUT_MS": "900"}
    plan = _plan({"BFn": {"MONGODB_DB_NAME": "other_db", "MONGODB_TIMEOUT_MS": "900"}}, process)

    # BFn's MONGODB_TIMEOUT_MS is the one the others inherit from the shell: no difference either.
    plan.require_one_value(["MONGODB_DB_NAME", "MONGODB_TIMEOUT_MS"], process, why="x", env_file="e.json")
