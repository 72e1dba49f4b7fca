"""The Makefile's verbs pass what the README says they pass."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml

from contract import smoke

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="no make on PATH")


def make(*arguments: str) -> subprocess.CompletedProcess[str]:
    # -o install: the venv these tests run in is there; make must not rebuild it.
    command = [str(MAKE), "-s", "-o", "install", *arguments]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def test_make_start_api_hands_args_to_the_local_api() -> None:
    done = make("-n", "start-api", "ARGS=--parameter-overrides AuthorizerCacheSeconds=0")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].endswith("-m local_api --parameter-overrides AuthorizerCacheSeconds=0")


def test_make_start_api_runs_the_local_api_with_args() -> None:
    # An unknown parameter stops the tool before it listens: its message proves it got the arguments.
    done = make("start-api", "ARGS=--in-memory --port 0 --parameter-overrides NoSuchParameter=1")

    assert done.returncode != 0
    assert "local_api: --parameter-overrides: NoSuchParameter not a parameter of template.yaml" in done.stderr


def recipe(*arguments: str) -> list[str]:
    """The commands ``make -n`` prints for a verb, its prerequisites' (build, sam-install) left out."""
    done = make("-n", "-o", "build", "-o", "sam-install", *arguments)
    assert done.returncode == 0, done.stderr
    return [line.rstrip() for line in done.stdout.splitlines()]


def samconfig_overrides(environment: str) -> list[str]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    return shlex.split(config[environment]["deploy"]["parameters"]["parameter_overrides"])


def test_make_deploy_takes_samconfigs_parameters_alone_then_prints_the_smoke_command() -> None:
    command, smoke_command = recipe("deploy", "ENV=prod")

    assert command.endswith("sam deploy --config-env prod")
    # SAM CLI's venv has boto3; a stack whose output cannot be read does not fail the deploy.
    assert smoke_command == ".venv-sam/bin/python -m contract.smoke --print-command --env prod || true"


def test_make_deploy_past_the_alarms_keeps_samconfigs_parameters_and_adds_the_override() -> None:
    # sam deploy's own --parameter-overrides replaces samconfig's: the recipe passes both.
    command, _ = recipe("deploy", "ENV=prod", "OVERRIDES=DeploymentAlarms=off")
    words = shlex.split(command)
    given = words[words.index("--parameter-overrides") + 1 :]
    template = cfn_yaml.load(str(ROOT / "template.yaml"))

    assert words[words.index("--config-env") + 1] == "prod"
    assert given == [*samconfig_overrides("prod"), "DeploymentAlarms=off"]
    assert "off" in template["Parameters"]["DeploymentAlarms"]["AllowedValues"]
    assert {item.split("=", 1)[0] for item in given} <= set(template["Parameters"])


def test_make_delete_deletes_the_environments_stack() -> None:
    (command,) = recipe("delete", "ENV=prod")

    assert command.endswith("sam delete --config-env prod")


def test_make_secrets_runs_the_prerequisites_tool_for_the_environment() -> None:
    (command,) = recipe("secrets", "ENV=prod")

    assert command.endswith("-m local_api.deploy_prerequisites --env prod")


def test_make_smoke_walks_the_url_given_with_each_origin() -> None:
    (command,) = recipe(
        "smoke", "URL=https://abc.execute-api.eu-west-1.amazonaws.com/prod", "ORIGIN=https://a.io https://b.io"
    )

    assert command == (
        ".venv/bin/python -m contract.smoke --url https://abc.execute-api.eu-west-1.amazonaws.com/prod"
        " --origin https://a.io --origin https://b.io"
    )


def test_make_smoke_without_url_reads_the_environments_stack() -> None:
    (command,) = recipe("smoke", "ENV=prod")

    assert command == ".venv/bin/python -m contract.smoke --env prod"


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_make_smoke_reads_the_stack_the_makefile_names(environment: str) -> None:
    *_, command = recipe("logs", "FN=LoginFunction", f"ENV={environment}")  # sam logs --stack-name $(STACK_NAME)
    words = shlex.split(command)

    assert smoke.stack_name(environment) == words[words.index("--stack-name") + 1]


def test_make_clean_removes_what_the_tools_write_and_distclean_sam_clis_venv() -> None:
    clean = set(shlex.split(recipe("clean")[0])[2:])
    distclean = {word for line in recipe("distclean") for word in shlex.split(line)[2:]}

    assert {".venv", ".aws-sam", ".bench", ".local", ".pytest_cache", ".mypy_cache", ".ruff_cache"} <= clean
    assert ".venv-sam" not in clean
    assert distclean == clean | {".venv-sam"}
