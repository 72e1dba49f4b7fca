"""What the import of ``shared`` prepares for a function's init (``shared.coldstart``): packages whose
``__init__`` waits until a name only it defines is asked for, and the garbage collector relaxed until
the handler is defined. Each test runs in a fresh interpreter, as a container starts: this one has
imported everything already.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.coldstart import DEFERRED, INIT_GC_THRESHOLD
from tests.support import in_fresh_process

EVENT_HANDLER = "aws_lambda_powertools.event_handler"


def fresh(code: str, *args: str, first: str = "import shared") -> Any:
    """What ``code`` prints last (JSON), run with ``args`` in a new interpreter after ``first``."""
    return in_fresh_process(f"import gc, importlib, json, sys\n{first}\n{code}", *args, timeout=300)


# For each package, a module its real __init__ imports and its table leaves out.
PROBES = {
    EVENT_HANDLER: f"{EVENT_HANDLER}.appsync",
    "aws_lambda_powertools.utilities.data_classes": "aws_lambda_powertools.utilities.data_classes.sqs_event",
    "jwt": "jwt.jwks_client",
    "pymongo": "pymongo.asynchronous.mongo_client",
}

_SAME_AS_REAL_INIT = """
package, probe, names = importlib.import_module(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
served = {name: getattr(package, name) for name in names}
ran_before = probe in sys.modules
package.__all__  # a name outside the table: the real __init__ runs
real = {name: getattr(package, name) for name in names}
wrong = [name for name in names if real[name] is not served[name] and real[name] != served[name]]
print(json.dumps([ran_before, probe in sys.modules, wrong, "__getattr__" in package.__dict__]))
"""


def test_every_deferred_package_has_a_probe() -> None:
    assert set(PROBES) == set(DEFERRED)


@pytest.mark.parametrize("package", sorted(DEFERRED))
def test_each_name_served_without_the_init_is_what_the_real_init_gives(package: str) -> None:
    names = json.dumps(sorted(DEFERRED[package]))
    ran_before, ran_after, wrong, still_deferred = fresh(_SAME_AS_REAL_INIT, package, PROBES[package], names)

    assert ran_before is False  # serving every name of the table needed none of the rest
    assert ran_after is True  # a name outside it ran the real __init__
    assert wrong == []
    assert still_deferred is False


def test_a_submodule_imports_without_its_package_init() -> None:
    loaded = fresh(
        f"from {EVENT_HANDLER}.api_gateway import APIGatewayRestResolver\n"
        "from jwt.api_jwt import encode\n"
        "print(json.dumps(sorted(sys.modules)))"
    )

    assert f"{EVENT_HANDLER}.api_gateway" in loaded
    assert {f"{EVENT_HANDLER}.appsync", f"{EVENT_HANDLER}.bedrock_agent", "jwt.jwks_client"}.isdisjoint(loaded)


def test_from_a_deferred_package_import_a_submodule_imports_only_that_submodule() -> None:
    loaded = fresh(
        f"from {EVENT_HANDLER} import content_types\n"
        f"print(json.dumps([content_types.APPLICATION_JSON, '{EVENT_HANDLER}.appsync' in sys.modules]))"
    )

    assert loaded == ["application/json", False]


def test_a_name_no_module_defines_is_still_an_attribute_error() -> None:
    code = "import jwt\ntry:\n    jwt.no_such_name\nexcept AttributeError as e:\n    print(json.dumps(str(e)))"
    outcome = fresh(code)

    assert outcome == "module 'jwt' has no attribute 'no_such_name'"


def test_a_package_imported_before_shared_is_left_as_it_is() -> None:
    assert fresh("print(json.dumps('jwt.jwks_client' in sys.modules))", first="import jwt\nimport shared") is True


def test_the_collector_waits_until_the_handler_is_defined_then_skips_what_init_made() -> None:
    code = """
from shared.coldstart import init_done, initialized
during, frozen_before = gc.get_threshold()[0], gc.get_freeze_count()
handler = initialized(lambda event, context: event)
after, frozen = gc.get_threshold(), gc.get_freeze_count()
init_done()  # later calls change nothing
print(json.dumps([during, frozen_before, after, frozen, gc.get_threshold() == after, handler(1, None)]))
"""
    during, frozen_before, after, frozen, unchanged, answer = fresh(code)

    assert during == INIT_GC_THRESHOLD
    assert frozen_before == 0
    assert after == list(fresh("print(json.dumps(gc.get_threshold()))", first=""))
    assert frozen > 1000  # what init made: out of every later collection
    assert unchanged is True
    assert answer == 1


_EVERY_SUBMODULE_FIRST = """
import importlib.util, os
package = sys.argv[1]
(folder,) = importlib.util.find_spec(package).submodule_search_locations
names = []
for parent, _, files in os.walk(folder):
    prefix = ".".join([package, *os.path.relpath(parent, folder).split(os.sep)]).removesuffix(".")
    names += [f"{prefix}.{f[:-3]}" for f in files if f.endswith(".py") and f != "__init__.py"]
failed = []
for name in json.loads(sys.argv[2]) if len(sys.argv) > 2 else sorted(names):
    child = os.fork()
    if child == 0:  # a process that imports this module of the package before any other
        try:
            importlib.import_module(name)
            importlib.import_module(package).__dict__
        except BaseException:
            os._exit(1)
        os._exit(0)
    if os.waitpid(child, 0)[1] != 0:
        failed.append(name)
print(json.dumps(failed))
"""


@pytest.mark.slow
@pytest.mark.parametrize("package", sorted(DEFERRED))
def test_every_submodule_imports_first_as_it_does_with_the_real_init(package: str) -> None:
    """Whatever a process imports first of a deferred package works as it would: its modules import
    each other in an order its ``__init__`` fixed (``FIRST``), and some take names from it."""
    failed: list[str] = fresh(_EVERY_SUBMODULE_FIRST, package)

    # Those that fail with the real __init__ too: an optional dependency the venv does not have.
    assert failed == (fresh(_EVERY_SUBMODULE_FIRST, package, json.dumps(failed), first="") if failed else [])
