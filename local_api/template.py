"""Read a SAM template into what the local API serves: functions, APIs and routes.

Nothing about the project's routes is written here: every ``Api`` event of every
``AWS::Serverless::Function`` becomes a route. ``Globals`` apply as SAM applies them. Values
go through :class:`~local_api.intrinsics.Intrinsics`; those that only exist once deployed
(``!Ref JwtSecret``) are left out, and the function's ``unresolved`` names them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from local_api.intrinsics import Intrinsics, Unresolvable, is_intrinsic, scalar

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
SERVERLESS_API = "AWS::Serverless::Api"
IMPLICIT_API = "ServerlessRestApi"
NO_VALUE = "AWS::NoValue"
DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128
DEFAULT_REAUTHORIZE_S = 300


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader where libyaml is there


class TemplateError(ValueError):
    """Raised when the template cannot be served (missing handler, unknown authorizer...)."""


class CloudFormationLoader(_Loader):  # type: ignore[misc,valid-type]
    """A safe YAML loader that turns the short tags (``!Ref``, ``!Sub``...) into their long form."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(cast(yaml.MappingNode, node), deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _short_tag)


def load_yaml(path: Path) -> dict[str, Any]:
    """The template as plain data, short tags included."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)  # noqa: S506 - a safe loader
    if not isinstance(data, dict):
        raise TemplateError(f"{path} is not a CloudFormation template")
    return data


def unquote(value: str) -> str:
    """SAM's header values are quoted for API Gateway (``"'*'"``); the header value is ``*``."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return value


@dataclass(frozen=True)
class Function:
    """One ``AWS::Serverless::Function``: where its handler is and what it runs with."""

    logical_id: str
    code_dir: Path
    handler: str
    memory_mb: int
    timeout_s: float
    environment: dict[str, str]
    unresolved: tuple[str, ...] = ()

    @property
    def module_path(self) -> Path:
        """The handler's source file (``app.lambda_handler`` -> ``<CodeUri>/app.py``)."""
        module, _, _ = self.handler.rpartition(".")
        return self.code_dir / (module.replace(".", "/") + ".py")

    @property
    def attribute(self) -> str:
        """The handler's function name inside its module."""
        return self.handler.rpartition(".")[2]


@dataclass(frozen=True)
class Authorizer:
    """A Lambda TOKEN authorizer of an API."""

    name: str
    function_id: str
    header: str
    validation: re.Pattern[str] | None
    ttl_s: int


@dataclass(frozen=True)
class Cors:
    """The API's ``Cors`` setting: what a preflight answers."""

    allow_origin: str
    allow_headers: str | None = None
    allow_methods: str | None = None
    max_age: str | None = None
    allow_credentials: bool = False


@dataclass(frozen=True)
class GatewayResponse:
    """A customised gateway response (``GatewayResponses`` entry)."""

    status: int | None
    headers: dict[str, str]
    templates: dict[str, str]


@dataclass(frozen=True)
class SamApi:
    """One REST API (an ``AWS::Serverless::Api`` or the implicit one) and its settings."""

    logical_id: str
    stage: str
    cors: Cors | None = None
    authorizers: dict[str, Authorizer] = field(default_factory=dict)
    default_authorizer: str | None = None
    authorize_preflight: bool = True
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)
    binary_media_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    """An ``Api`` event: this method on this resource path calls this function."""

    api: SamApi
    function_id: str
    path: str
    method: str
    authorizer: str | None


@dataclass(frozen=True)
class Application:
    """Everything the local API needs from the template."""

    root: Path
    functions: dict[str, Function]
    apis: dict[str, SamApi]
    routes: list[Route]
    parameters: dict[str, str]
    preflights: list[Route] = field(default_factory=list)
    """The ``OPTIONS`` events: CORS preflights a function answers, kept apart from the API's routes
    (which are documented, listed in the README, each given a fixture); the gateway routes both."""


def parameter_defaults(template: Mapping[str, Any]) -> dict[str, str]:
    """The template's parameters that have a default, as strings."""
    params = template.get("Parameters") or {}
    return {name: scalar(spec["Default"]) for name, spec in params.items() if "Default" in (spec or {})}


def _merge(base: Any, override: Any) -> Any:
    """SAM's ``Globals`` semantics: maps merge key by key, lists add up (the global items first),
    anything else (a string, a number, an intrinsic function) is the resource's own."""
    if isinstance(base, dict) and isinstance(override, dict) and not is_intrinsic(base) and not is_intrinsic(override):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(merged[key], value) if key in merged else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return [*base, *override]
    return override


def _with_globals(section: Mapping[str, Any], resource: Mapping[str, Any]) -> Any:
    """A resource's properties merged over its ``Globals`` section, less what its ``IgnoreGlobals``
    attribute names (a list of property names, or ``"*"`` for all)."""
    ignored = resource.get("IgnoreGlobals") or []
    inherited = {} if ignored == "*" else {k: v for k, v in section.items() if k not in ignored}
    return _merge(inherited, resource.get("Properties") or {})


def _environment(intrinsics: Intrinsics, variables: Mapping[str, Any]) -> tuple[dict[str, str], tuple[str, ...]]:
    env: dict[str, str] = {}
    unresolved: list[str] = []
    for name, value in variables.items():
        if value == {"Ref": NO_VALUE}:
            continue
        try:
            env[name] = intrinsics.string(value)
        except Unresolvable:
            unresolved.append(name)
    return env, tuple(unresolved)


def _function(root: Path, logical_id: str, props: Mapping[str, Any], intrinsics: Intrinsics) -> Function:
    code_uri = props.get("CodeUri")
    handler = props.get("Handler")
    if not isinstance(code_uri, str) or not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"{logical_id}: a local CodeUri and a Handler like app.lambda_handler are required")
    variables = (props.get("Environment") or {}).get("Variables") or {}
    env, unresolved = _environment(intrinsics, variables)
    return Function(
        logical_id=logical_id,
        code_dir=(root / code_uri).resolve(),
        handler=handler,
        memory_mb=int(intrinsics.string(props.get("MemorySize", DEFAULT_MEMORY_MB))),
        timeout_s=float(intrinsics.string(props.get("Timeout", DEFAULT_TIMEOUT_S))),
        environment=env,
        unresolved=unresolved,
    )


_FUNCTION_ATTRIBUTES = ("Arn", "Alias", "Version")  # X.Alias and X.Version: what AutoPublishAlias makes
_SUB_REFERENCE = re.compile(r"\$\{([^}!][^}]*)\}")


def _function_reference(name: str) -> str:
    """``X`` for ``X``, ``X.Arn``, ``X.Alias`` or ``X.Version``: locally they all run function X."""
    logical_id, _, attribute = name.partition(".")
    if attribute and attribute not in _FUNCTION_ATTRIBUTES:
        raise TemplateError(f"authorizer FunctionArn names {name}, not a function's Arn, Alias or Version")
    return logical_id


def _function_id(arn: Any) -> str:
    """The logical id behind an authorizer's ``FunctionArn``: ``!GetAtt X.Arn``, ``!Ref X``,
    their ``.Alias`` forms, or one ``${X.Arn}`` / ``${X.Alias}`` in a ``!Sub``."""
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        logical_id, attribute = arn["Fn::GetAtt"]
        return _function_reference(f"{logical_id}.{attribute}")
    if isinstance(arn, dict) and "Ref" in arn:
        return _function_reference(str(arn["Ref"]))
    if isinstance(arn, dict) and "Fn::Sub" in arn:
        text, variables = (
            (arn["Fn::Sub"][0], arn["Fn::Sub"][1]) if isinstance(arn["Fn::Sub"], list) else (arn["Fn::Sub"], {})
        )
        names = {
            _function_reference(name)
            for name in _SUB_REFERENCE.findall(str(text))
            if not name.startswith("AWS::") and name not in variables
        }
        if len(names) == 1:
            return names.pop()
    raise TemplateError(f"authorizer FunctionArn {arn!r} does not name a function of this template")


def _authorizer(name: str, spec: Mapping[str, Any], intrinsics: Intrinsics) -> Authorizer:
    if (spec.get("FunctionPayloadType") or "TOKEN") != "TOKEN":
        raise TemplateError(f"authorizer {name}: only TOKEN authorizers are supported locally")
    identity = spec.get("Identity") or {}
    expression = identity.get("ValidationExpression")
    return Authorizer(
        name=name,
        function_id=_function_id(spec.get("FunctionArn")),
        header=intrinsics.string(identity.get("Header", "Authorization")),
        validation=re.compile(intrinsics.string(expression)) if expression else None,
        ttl_s=int(intrinsics.string(identity.get("ReauthorizeEvery", DEFAULT_REAUTHORIZE_S))),
    )


def _cors(value: Any, intrinsics: Intrinsics) -> Cors | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return Cors(allow_origin=unquote(intrinsics.string(value)))

    def header(key: str) -> str | None:
        return unquote(intrinsics.string(value[key])) if key in value else None

    return Cors(
        allow_origin=header("AllowOrigin") or "*",
        allow_headers=header("AllowHeaders"),
        allow_methods=header("AllowMethods"),
        max_age=header("MaxAge"),
        allow_credentials=bool(intrinsics.resolve(value.get("AllowCredentials", False))),
    )


def _gateway_responses(value: Mapping[str, Any], intrinsics: Intrinsics) -> dict[str, GatewayResponse]:
    responses = {}
    for kind, spec in value.items():
        # A header whose value is !Ref AWS::NoValue (through !If) is not sent.
        headers = intrinsics.resolve(((spec or {}).get("ResponseParameters") or {}).get("Headers") or {})
        status = (spec or {}).get("StatusCode")
        responses[kind] = GatewayResponse(
            status=int(intrinsics.string(status)) if status is not None else None,
            headers={name: unquote(intrinsics.string(v)) for name, v in headers.items()},
            templates={k: intrinsics.string(v) for k, v in ((spec or {}).get("ResponseTemplates") or {}).items()},
        )
    return responses


def _api(logical_id: str, props: Mapping[str, Any], intrinsics: Intrinsics) -> SamApi:
    auth = props.get("Auth") or {}
    default = auth.get("DefaultAuthorizer")
    return SamApi(
        logical_id=logical_id,
        stage=intrinsics.string(props.get("StageName", "Prod")),
        cors=_cors(props.get("Cors"), intrinsics),
        authorizers={
            name: _authorizer(name, spec, intrinsics) for name, spec in (auth.get("Authorizers") or {}).items()
        },
        default_authorizer=None if default in (None, "NONE") else str(default),
        authorize_preflight=bool(auth.get("AddDefaultAuthorizerToCorsPreflight", True)),
        gateway_responses=_gateway_responses(props.get("GatewayResponses") or {}, intrinsics),
        binary_media_types=tuple(intrinsics.string(t).replace("~1", "/") for t in props.get("BinaryMediaTypes") or []),
    )


def _api_id(rest_api_id: Any) -> str:
    if rest_api_id is None:
        return IMPLICIT_API
    if isinstance(rest_api_id, dict) and "Ref" in rest_api_id:
        return str(rest_api_id["Ref"])
    return str(rest_api_id)


def _routes(function_id: str, props: Mapping[str, Any], apis: dict[str, SamApi], intrinsics: Intrinsics) -> list[Route]:
    routes = []
    for event_name, event in (props.get("Events") or {}).items():
        if (event or {}).get("Type") != "Api":
            continue
        spec = event.get("Properties") or {}
        api = apis.get(_api_id(spec.get("RestApiId")))
        if api is None:
            raise TemplateError(f"{function_id}.{event_name}: RestApiId is not an AWS::Serverless::Api here")
        authorizer = ((spec.get("Auth") or {}).get("Authorizer")) or api.default_authorizer
        if authorizer in ("NONE", "AWS_IAM"):
            authorizer = None
        if authorizer is not None and authorizer not in api.authorizers:
            raise TemplateError(f"{function_id}.{event_name}: unknown authorizer {authorizer}")
        method = intrinsics.string(spec["Method"]).upper()
        routes.append(Route(api, function_id, intrinsics.string(spec["Path"]), method, authorizer))
    return routes


def load_application(
    path: Path, intrinsics: Intrinsics | None = None, document: Mapping[str, Any] | None = None
) -> Application:
    """Every function, API and route of the template at ``path`` (already read: ``document``).

    Without ``intrinsics``, parameters take their defaults and there are no pseudo parameters.
    """
    template = document if document is not None else load_yaml(path)
    if intrinsics is None:
        intrinsics = Intrinsics(parameter_defaults(template), {})
    intrinsics = intrinsics.with_conditions(template.get("Conditions") or {})
    root = path.resolve().parent
    resources = template.get("Resources") or {}
    globals_ = template.get("Globals") or {}
    apis = {
        logical_id: _api(logical_id, _with_globals(globals_.get("Api") or {}, r), intrinsics)
        for logical_id, r in resources.items()
        if r.get("Type") == SERVERLESS_API
    }
    apis.setdefault(IMPLICIT_API, _api(IMPLICIT_API, globals_.get("Api") or {}, intrinsics))
    functions: dict[str, Function] = {}
    routes: list[Route] = []
    preflights: list[Route] = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != SERVERLESS_FUNCTION:
            continue
        props = _with_globals(globals_.get("Function") or {}, resource)
        functions[logical_id] = _function(root, logical_id, props, intrinsics)
        for route in _routes(logical_id, props, apis, intrinsics):
            (preflights if route.method == "OPTIONS" else routes).append(route)
    for api in apis.values():
        for authorizer in api.authorizers.values():
            if authorizer.function_id not in functions:
                raise TemplateError(f"authorizer {authorizer.name}: {authorizer.function_id} is not a function here")
    return Application(root, functions, apis, routes, dict(intrinsics.parameters), preflights)
