"""CloudFormation's intrinsic functions, resolved where that is possible without deploying.

Parameters and pseudo parameters (``AWS::Region``...) have values locally, and so do the
functions built from them: ``Ref``, ``Fn::Sub``, ``Fn::Join``, ``Fn::Select``, ``Fn::Split``.
Anything that names a resource (``!Ref JwtSecret``, ``!GetAtt Fn.Arn``) or needs a condition
only exists once deployed: it raises :class:`Unresolvable`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


class Unresolvable(LookupError):
    """Raised when a value depends on something that only exists once deployed."""


def is_intrinsic(value: Any) -> bool:
    """Whether ``value`` is an intrinsic function in its long form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``)."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    [key] = value
    return key in ("Ref", "Condition") or str(key).startswith("Fn::")


def scalar(value: Any) -> str:
    """CloudFormation's string form of a YAML scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(scalar(v) for v in value)
    return str(value)


class Intrinsics:
    """Resolves intrinsic functions against parameter values and pseudo parameters."""

    _SUB = re.compile(r"\$\{([^}]*)\}")

    def __init__(self, parameters: Mapping[str, str], pseudo: Mapping[str, str]) -> None:
        self.parameters = dict(parameters)
        self.pseudo = dict(pseudo)

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function replaced; Unresolvable when one cannot be."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(key, arg)] = value.items()
            if key == "Ref":
                return self._ref(str(arg))
            if key.startswith("Fn::"):
                return self._function(key[4:], arg)
        return {k: self.resolve(v) for k, v in value.items()}

    def string(self, value: Any) -> str:
        """The resolved value as the string an environment variable or header would hold."""
        return scalar(self.resolve(value))

    def _ref(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        raise Unresolvable(f"!Ref {name}")

    def _function(self, name: str, arg: Any) -> Any:
        if name == "Sub":
            text, variables = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})
            return self._sub(str(text), {k: self.string(v) for k, v in variables.items()})
        if name == "Join":
            delimiter, items = arg
            return str(delimiter).join(self.string(item) for item in self.resolve(items))
        if name == "Select":
            index, items = arg
            return self.resolve(items)[int(self.string(index))]
        if name == "Split":
            delimiter, source = arg
            return self.string(source).split(str(delimiter))
        raise Unresolvable(f"Fn::{name}")

    def _sub(self, text: str, variables: Mapping[str, str]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return variables[name]
            if "." in name:
                raise Unresolvable(f"${{{name}}}")
            return self._ref(name)

        return self._SUB.sub(replace, text)
