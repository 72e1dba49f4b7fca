"""The contract package (``contract/``) keeps its place: one door into the layer, and dependencies
that point one way (the contract uses the local API's template reader and event builder; the local
API imports the contract only where it serves it)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import shared
from contract import project, smoke
from shared.http.contract import IDEMPOTENCY_KEY_HEADER, RETRY_AFTER_HEADER
from tests.support import ROOT, imported_modules

CONTRACT = ROOT / "contract"
LOCAL_API = ROOT / "local_api"
# What the contract may use of the local API: reading the template, loading the functions, building events.
EMULATOR_PARTS_FOR_THE_CONTRACT = {
    "local_api.template",
    "local_api.intrinsics",
    "local_api.runtime",
    "local_api.events",
    "local_api.authorizer",
    "local_api.environment",
}
# Where the local API may use the contract: the docs page serves the document, the banner names the API.
LOCAL_API_MODULES_USING_THE_CONTRACT = {"docs.py", "cli.py"}


def _within(modules: set[str], package: str) -> set[str]:
    return {m for m in modules if m == package or m.startswith(f"{package}.")}


@pytest.mark.parametrize("path", sorted(p for p in CONTRACT.glob("*.py") if p.name != "project.py"))
def test_only_the_project_module_of_the_contract_imports_the_layer(path: Path) -> None:
    assert _within(imported_modules(path), "shared") == set()
    assert "import_module(" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", sorted(CONTRACT.glob("*.py")))
def test_contract_uses_of_the_local_api_only_its_template_reader_and_event_builder(path: Path) -> None:
    assert _within(imported_modules(path), "local_api") <= EMULATOR_PARTS_FOR_THE_CONTRACT


@pytest.mark.parametrize("path", sorted(LOCAL_API.glob("*.py")), ids=lambda p: p.name)
def test_local_api_imports_the_contract_only_where_it_serves_it(path: Path) -> None:
    if path.name not in LOCAL_API_MODULES_USING_THE_CONTRACT:
        assert _within(imported_modules(path), "contract") == set()


def test_version_is_the_layer_packages() -> None:
    assert project.version(ROOT) == shared.__version__


def _roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_smoke_imports_only_the_standard_library_and_boto3_where_it_reads_a_stack() -> None:
    # It walks any URL as a client does, also with SAM CLI's venv (make deploy): nothing of shared, of the
    # local API or of .venv's packages; boto3 only inside the function that reads a stack (--env).
    path = CONTRACT / "smoke.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top_level |= {node.module for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
    stdlib = set(sys.stdlib_module_names)

    assert _roots(top_level) <= stdlib
    assert _roots(imported_modules(path)) - stdlib == {"boto3", "botocore"}


def test_smoke_spells_the_headers_as_the_functions_do() -> None:
    assert (smoke.IDEMPOTENCY_KEY, smoke.RETRY_AFTER) == (IDEMPOTENCY_KEY_HEADER, RETRY_AFTER_HEADER)
