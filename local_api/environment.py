"""The environment each function runs with, and switching ``os.environ`` between them.

Layers, lowest first: the template's variables (``!Ref`` parameters resolved from their
defaults, then ``samconfig.toml``'s ``default.deploy`` ``parameter_overrides``), local
defaults (the generated JWT secret), the env file in SAM's ``--env-vars`` format
(``Parameters`` for every function, then the function's own section), and last whatever the
process environment already sets. Values that cannot be resolved locally stay unset.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_api.project import clear_settings_cache
from local_api.template import Function

LOCAL_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_STACK_NAME = "local"
ENV_FILE_NAME = "env.local.json"
GLOBAL_SECTION = "Parameters"


def region(environ: Mapping[str, str] = os.environ) -> str:
    """The AWS region events and ARNs name."""
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def read_samconfig(root: Path) -> dict[str, Any]:
    """``samconfig.toml``'s ``[default.global.parameters]`` and ``[default.deploy.parameters]`` merged."""
    path = root / "samconfig.toml"
    if not path.is_file():
        return {}
    default = tomllib.loads(path.read_text(encoding="utf-8")).get("default", {})
    return {
        **default.get("global", {}).get("parameters", {}),
        **default.get("deploy", {}).get("parameters", {}),
    }


_LONG_FORM = re.compile(r"^ParameterKey=(?P<key>[^,]+),ParameterValue=(?P<value>.*)$")


def parse_parameter_overrides(raw: str | Sequence[str]) -> dict[str, str]:
    """Parameter overrides as SAM takes them: ``"A=1 B='x y'"``, a list of such strings, and
    the long form ``ParameterKey=A,ParameterValue=1``; ValueError for an item of neither form."""
    items = [item for part in ([raw] if isinstance(raw, str) else raw) for item in shlex.split(str(part))]
    overrides = {}
    for item in items:
        long_form = _LONG_FORM.match(item)
        key, separator, value = (long_form["key"], "=", long_form["value"]) if long_form else item.partition("=")
        if not separator or not key:
            raise ValueError(
                f"parameter override {item!r}: expected Key=Value or ParameterKey=Key,ParameterValue=Value"
            )
        overrides[key] = value
    return overrides


def parameter_overrides(samconfig: Mapping[str, Any]) -> dict[str, str]:
    """``samconfig.toml``'s ``parameter_overrides`` as a mapping."""
    return parse_parameter_overrides(samconfig.get("parameter_overrides") or [])


def pseudo_parameters(samconfig: Mapping[str, Any]) -> dict[str, str]:
    """``AWS::Region`` and friends as a local stack would see them."""
    return {
        "AWS::Region": str(samconfig.get("region") or region()),
        "AWS::AccountId": LOCAL_ACCOUNT_ID,
        "AWS::StackName": str(samconfig.get("stack_name") or DEFAULT_STACK_NAME),
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }


def read_env_file(path: Path | None) -> dict[str, dict[str, str]]:
    """An env file in SAM's ``--env-vars`` format: ``{"Parameters": {...}, "<LogicalId>": {...}}``."""
    if path is None or not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{path}: expected {{'Parameters': {{...}}, '<FunctionLogicalId>': {{...}}}}")
    return {section: {k: str(v) for k, v in values.items()} for section, values in data.items()}


def local_jwt_secret(data_dir: Path | None) -> str:
    """A generated signing secret, kept in ``data_dir`` so tokens survive a restart."""
    if data_dir is None:
        return secrets.token_urlsafe(48)
    path = data_dir / "jwt-secret"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value


@dataclass(frozen=True)
class EnvironmentPlan:
    """The final environment of every function, and which variables the plan manages."""

    per_function: dict[str, dict[str, str]]
    managed: frozenset[str]

    @classmethod
    def build(
        cls,
        functions: Mapping[str, Function],
        env_file: Mapping[str, Mapping[str, str]],
        local_defaults: Mapping[str, str],
        process: Mapping[str, str],
    ) -> EnvironmentPlan:
        """Stack the layers for each function; the process environment always wins."""
        per_function = {}
        for logical_id, function in functions.items():
            env = {**function.environment, **local_defaults}
            env.update(env_file.get(GLOBAL_SECTION, {}))
            env.update(env_file.get(logical_id, {}))
            env.update({name: process[name] for name in env if name in process})
            per_function[logical_id] = env
        managed = frozenset(name for env in per_function.values() for name in env)
        return cls(per_function, managed)

    def set_apart(self, name: str, process: Mapping[str, str]) -> list[str]:
        """The functions whose ``name`` differs from the value most functions have. A function whose plan
        leaves it out runs with ``process``'s value; blank and unset are alike."""
        values = {f: (env.get(name, process.get(name)) or "").strip() for f, env in self.per_function.items()}
        counts = list(values.values())
        usual = max(counts, key=counts.count, default="")
        return sorted(function for function, value in values.items() if value != usual)

    def require_one_value(self, names: Sequence[str], process: Mapping[str, str], *, why: str, env_file: str) -> None:
        """ValueError naming the first variable of ``names`` that differs between functions, and them."""
        for name in names:
            apart = self.set_apart(name, process)
            if apart:
                functions = ", ".join(apart)
                raise ValueError(
                    f"{functions}: a {name} of {'its' if len(apart) == 1 else 'their'} own is not supported "
                    f"({why}): set it under {GLOBAL_SECTION!r} in {env_file} or in the shell, for every function"
                )


def provided(name: str, env_file: Mapping[str, Mapping[str, str]], process: Mapping[str, str]) -> str | None:
    """A variable the developer set, in the process environment or anywhere in the env file."""
    if process.get(name):
        return process[name]
    return next((section[name] for section in env_file.values() if section.get(name)), None)


class EnvironmentSwitcher:
    """Puts one function's environment into ``os.environ`` (callers hold the invocation lock)."""

    def __init__(self, plan: EnvironmentPlan) -> None:
        self.plan = plan
        self.original = dict(os.environ)
        self.active: str | None = None

    def activate(self, function_id: str) -> bool:
        """Switch to ``function_id``'s environment; True when ``os.environ`` changed."""
        if self.active == function_id:
            return False
        wanted = self.plan.per_function[function_id]
        changed = False
        for name in self.plan.managed:
            value = wanted.get(name, self.original.get(name))
            if value is None:
                changed |= os.environ.pop(name, None) is not None
            elif os.environ.get(name) != value:
                os.environ[name] = value
                changed = True
        self.active = function_id
        if changed:
            clear_settings_cache()  # the layer's settings were read from the old environment
        return changed

    def forget(self) -> None:
        """Re-check the environment on the next activation (after a reload)."""
        self.active = None
