"""A function's init, prepared by the first import of ``shared`` (its ``__init__`` calls ``prepare_init``).

A cold start pays for every module the function imports and for the garbage collector's passes over
what those imports create. Two costs here buy a function nothing:

- **Package ``__init__`` files that import every part of a library**, where a function uses one.
  Powertools' ``event_handler`` loads every resolver it ships (AppSync's, Bedrock agents', VPC
  Lattice's...), its ``utilities.data_classes`` every event source's class, PyJWT's the JWKS client
  (``urllib.request``, ``http.client``) for a project that signs HS256 tokens only, and pymongo's the
  asyncio client beside the synchronous one. Importing a submodule always runs its package's
  ``__init__`` first, so the finder installed here gives each package of ``DEFERRED`` a module whose
  ``__init__`` has not run: its submodules import as usual, each name of its table (what this
  project's code and the libraries' own modules take from the package) is looked up in the submodule
  that defines it on first access, and any other name runs the real ``__init__`` first, then answers
  as it always did. Nothing behaves differently; a name missing from a table only costs what that
  ``__init__`` costs, once (``tests/test_imports.py`` keeps what each function loads at init, and
  ``tests/unit/test_coldstart.py`` checks every name against the real ``__init__``). Some names only an
  ``__init__`` defines: a module that uses one imports it at its own import, so that the cost falls in
  the init of the one function that needs it (``shared.data.ping``: ``pymongo.timeout``, the health
  route). A package imported before ``shared`` is left as it is.
- **Garbage collection during init.** The imports make tens of thousands of objects that live as long
  as the container (about 70,000 that the collector tracks, in a route function), and the collector
  walks them again and again while they are made (by default, every 2,000 new ones on Python 3.13).
  Until ``init_done()``, which a function's handler decorator calls (``shared.http.handler.observed``,
  or ``initialized`` for the other functions), the youngest generation is collected every
  ``INIT_GC_THRESHOLD`` new objects instead; then the thresholds are restored and everything made so
  far is moved out of the collector's way (``gc.freeze``), so that no later request walks it again.

Both are process-wide, and both apply wherever ``shared`` is imported (the tests and the local API
too), so that what is tested is what runs in Lambda.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any, TypeVar

Name = str | int
"""Where a package's name comes from: the submodule (``.api_gateway``, relative to the package) holding
an attribute of the same name, or the integer the package's ``__init__`` sets it to (pymongo's sort
orders, which its own modules import from it)."""


def _from(module: str, *names: str) -> dict[str, Name]:
    return dict.fromkeys(names, module)


FIRST: dict[str, tuple[str, ...]] = {"jwt": (".api_jwt",), "pymongo": ("._csot", "._version", ".common")}
"""Submodules imported with the package, before anything else of it. PyJWT's token functions: its users
call ``jwt.encode`` and ``jwt.decode`` by attribute, looked up on the first call, which would otherwise
import their modules on the first request. pymongo's first modules in its ``__init__``'s order: they
import each other in cycles that resolve only when ``common`` comes before ``hello``."""

DEFERRED: dict[str, dict[str, Name]] = {
    "aws_lambda_powertools.event_handler": {
        **_from(
            ".api_gateway",
            *("ALBResolver", "APIGatewayHttpResolver", "ApiGatewayResolver", "APIGatewayRestResolver"),
            *("CORSConfig", "Response"),
        ),
        **_from(".depends", "DependencyResolutionError", "Depends"),
        **_from(".request", "Request"),
    },
    "aws_lambda_powertools.utilities.data_classes": {
        **_from(".alb_event", "ALBEvent"),
        **_from(".api_gateway_proxy_event", "APIGatewayProxyEvent", "APIGatewayProxyEventV2"),
        **_from(".bedrock_agent_event", "BedrockAgentEvent"),
        **_from(".lambda_function_url_event", "LambdaFunctionUrlEvent"),
        **_from(".s3_event", "S3Event"),  # sqs_event takes it from the package
        **_from(".vpc_lattice", "VPCLatticeEvent", "VPCLatticeEventV2"),
    },
    "jwt": {
        **_from(".api_jwk", "PyJWK", "PyJWKSet"),
        **_from(
            ".api_jws",
            *("PyJWS", "get_algorithm_by_name", "get_unverified_header", "register_algorithm"),
            "unregister_algorithm",
        ),
        **_from(".api_jwt", "PyJWT", "decode", "decode_complete", "encode"),
        **_from(
            ".exceptions",
            *("DecodeError", "ExpiredSignatureError", "ImmatureSignatureError", "InvalidAlgorithmError"),
            *("InvalidAudienceError", "InvalidIssuedAtError", "InvalidIssuerError", "InvalidKeyError"),
            *("InvalidSignatureError", "InvalidTokenError", "MissingRequiredClaimError"),
            *("PyJWKClientConnectionError", "PyJWKClientError", "PyJWKError", "PyJWKSetError", "PyJWTError"),
        ),
        **_from(".warnings", "InsecureKeyLengthWarning"),
    },
    "pymongo": {
        "ASCENDING": 1,
        "DESCENDING": -1,
        **_from("._version", "__version__", "get_version_string", "version_tuple"),
        **_from(".common", "MAX_SUPPORTED_WIRE_VERSION", "MIN_SUPPORTED_WIRE_VERSION", "has_c"),
        **_from(".cursor", "CursorType"),
        **_from(
            ".operations",
            *("DeleteMany", "DeleteOne", "IndexModel", "InsertOne", "ReplaceOne", "UpdateMany", "UpdateOne"),
        ),
        **_from(".read_preferences", "ReadPreference"),
        **_from(".synchronous.collection", "ReturnDocument"),
        **_from(".synchronous.mongo_client", "MongoClient"),
        **_from(".write_concern", "WriteConcern"),
    },
}
"""The packages whose ``__init__`` waits, and for each the names served without it."""

INIT_GC_THRESHOLD = 100_000
"""New container objects between two collections of the youngest generation during init (Python 3.13: 2,000)."""

_thresholds: tuple[int, int, int] | None = None


class _PackageWithoutInit:
    """The loader of a package of ``DEFERRED``: makes its module as the real loader would, with the
    names of its table served lazily and its ``__init__`` run only for another name."""

    def __init__(self, loader: Any, names: Mapping[str, Name]) -> None:
        self.loader = loader
        self.names = names

    def __getattr__(self, name: str) -> Any:  # anything else a loader is asked (resource readers...)
        return getattr(self.loader, name)

    def create_module(self, spec: Any) -> ModuleType | None:
        module: ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        def lookup(name: str) -> Any:
            return _lookup(module, self.loader, self.names, name)

        module.__getattr__ = lookup  # type: ignore[method-assign]  # PEP 562: asked for missing names only
        for submodule in FIRST.get(module.__name__, ()):
            importlib.import_module(submodule, module.__name__)


def _lookup(module: ModuleType, loader: Any, names: Mapping[str, Name], name: str) -> Any:
    if name in names:
        source = names[name]
        value = source if isinstance(source, int) else getattr(importlib.import_module(source, module.__name__), name)
    elif not name.startswith("__") and importlib.util.find_spec(f"{module.__name__}.{name}") is not None:
        raise AttributeError(name)  # a submodule: ``from package import submodule`` imports it then
    else:
        del module.__getattr__  # any other name: the real __init__, once, and its answer
        loader.exec_module(module)
        return getattr(module, name)
    setattr(module, name, value)
    return value


class _DeferredInitFinder:
    """First on ``sys.meta_path``: finds a package of ``DEFERRED`` as the other finders do, with its
    loader wrapped; every other import goes on to the other finders."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        names = DEFERRED.get(fullname)
        if names is None:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                spec.loader = _PackageWithoutInit(spec.loader, names)
                return spec
        return None


def prepare_init() -> None:
    """Defer the packages' ``__init__`` and relax the collector until ``init_done()``; once per process."""
    global _thresholds
    if any(isinstance(finder, _DeferredInitFinder) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, _DeferredInitFinder())
    _thresholds = gc.get_threshold()
    gc.set_threshold(INIT_GC_THRESHOLD, *_thresholds[1:])


def init_done() -> None:
    """The end of a function's init: the collector's thresholds back, and every object made so far
    frozen out of its passes (``gc.freeze``). Does nothing after the first call."""
    global _thresholds
    if _thresholds is None:
        return
    gc.freeze()
    gc.set_threshold(*_thresholds)
    _thresholds = None


HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


def initialized(handler: HandlerT) -> HandlerT:
    """Decorates a function's ``lambda_handler``, the last statement of its init: ``init_done()``, and
    the handler unchanged."""
    init_done()
    return handler
