"""CloudFormation's intrinsic functions, resolved where that is possible without deploying.

Parameters and pseudo parameters (``AWS::Region``...) have values locally, and so do the
functions built from them: ``Ref``, ``Fn::Sub``, ``Fn::Join``, ``Fn::Select``, ``Fn::Split``, and,
given the template's ``Conditions``, ``Fn::If`` (with ``Fn::Equals``, ``Fn::Not``, ``Fn::And``,
``Fn::Or``, ``Condition``; ``!Ref AWS::NoValue`` drops the key or item it is the value of).
Anything that names a resource (``!Ref JwtSecret``, ``!GetAtt Fn.Arn``) only exists once
deployed: it raises :class:`Unresolvable`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

NO_VALUE = "AWS::NoValue"


class _NoValue:
    """What ``!Ref AWS::NoValue`` resolves to: its key (or list item) is dropped."""


ABSENT = _NoValue()


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

    def __init__(
        self, parameters: Mapping[str, str], pseudo: Mapping[str, str], conditions: Mapping[str, Any] | None = None
    ) -> None:
        self.parameters = dict(parameters)
        self.pseudo = dict(pseudo)
        self.conditions = dict(conditions or {})

    def with_conditions(self, conditions: Mapping[str, Any]) -> Intrinsics:
        """These parameters with a template's ``Conditions`` section."""
        return Intrinsics(self.parameters, self.pseudo, conditions)

    def condition(self, name: str) -> bool:
        """The value of the template's condition ``name``; Unresolvable when there is none."""
        if name not in self.conditions:
            raise Unresolvable(f"Condition {name}")
        return self._truth(self.conditions[name])

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function replaced; Unresolvable when one cannot be."""
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not ABSENT]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(key, arg)] = value.items()
            if key == "Ref":
                return ABSENT if arg == NO_VALUE else self._ref(str(arg))
            if key.startswith("Fn::"):
                return self._function(key[4:], arg)
        return {k: item for k, item in ((k, self.resolve(v)) for k, v in value.items()) if item is not ABSENT}

    def _truth(self, value: Any) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            [(key, arg)] = value.items()
            if key == "Condition":
                return self.condition(str(arg))
            if key == "Fn::Equals":
                left, right = arg
                return self.string(left) == self.string(right)
            if key == "Fn::Not":
                [inner] = arg
                return not self._truth(inner)
            if key == "Fn::And":
                return all(self._truth(v) for v in arg)
            if key == "Fn::Or":
                return any(self._truth(v) for v in arg)
        raise Unresolvable(f"condition {value!r}")

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
        if name == "If":
            condition, if_true, if_false = arg
            return self.resolve(if_true if self.condition(str(condition)) else if_false)
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
