"""The project hangs together: every function of the template has its folder, an event fixture and
a test file, each fixture targets its function's route (or, for a custom resource's function, is
CloudFormation's request for that resource), and nothing is left over."""

from __future__ import annotations

import ast
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from contract.fixtures import generate
from contract.openapi import DOCUMENT
from local_api.template import load_application
from shared.http.contract import ALLOWED_METHODS

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
EVENTS_DIR = ROOT / "events"
FUNCTION_TESTS_DIR = ROOT / "tests" / "functions"


def tracked_top_level() -> set[str]:
    """The first component of every path git tracks."""
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {path.split("/", 1)[0] for path in listed.splitlines()}


TEMPLATE: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
HANDLER: str = TEMPLATE["Globals"]["Function"]["Handler"]


def folder_of(code_uri: str) -> str:
    prefix = "functions/"
    assert code_uri.startswith(prefix) and code_uri.endswith("/"), code_uri
    return code_uri.removeprefix(prefix).rstrip("/")


FOLDERS: dict[str, str] = {
    logical_id: folder_of(resource["Properties"]["CodeUri"])
    for logical_id, resource in RESOURCES.items()
    if resource["Type"] == "AWS::Serverless::Function"
}
ROUTES: dict[str, list[tuple[str, str]]] = {
    FOLDERS[logical_id]: [
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for event in RESOURCES[logical_id]["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
    ]
    for logical_id in FOLDERS
}


def function_of(arn: dict[str, Any]) -> str:
    """The logical id an authorizer's FunctionArn names: ``!GetAtt X.Arn``, ``!Ref X.Alias`` or
    ``!Sub "${X.Arn}:<alias>"``."""
    if "Fn::Sub" in arn:
        return str(re.fullmatch(r"\$\{(\w+)\.Arn\}:\w+", arn["Fn::Sub"])[1])
    return str(arn["Fn::GetAtt"][0] if "Fn::GetAtt" in arn else arn["Ref"].split(".")[0])


AUTHORIZERS: list[str] = [
    FOLDERS[function_of(authorizer["FunctionArn"])]
    for resource in RESOURCES.values()
    if resource["Type"] == "AWS::Serverless::Api"
    for authorizer in resource["Properties"]["Auth"]["Authorizers"].values()
]
ROUTE_FOLDERS = sorted(folder for folder, routes in ROUTES.items() if routes)
# Functions CloudFormation calls for a custom resource (ServiceToken: !GetAtt <Function>.Arn), by folder.
CUSTOM_RESOURCES: dict[str, tuple[str, dict[str, Any]]] = {
    FOLDERS[resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]]: (logical_id, resource)
    for logical_id, resource in RESOURCES.items()
    if resource["Type"].startswith("Custom::")
}


# Functions an EventBridge schedule calls (a ``Schedule`` event), by folder.
SCHEDULED: list[str] = sorted(
    FOLDERS[logical_id]
    for logical_id, resource in RESOURCES.items()
    if resource["Type"] == "AWS::Serverless::Function"
    and any(e["Type"] == "Schedule" for e in (resource["Properties"].get("Events") or {}).values())
)


def fixture_folder(fixture: Path) -> str | None:
    """The function folder an event fixture belongs to: ``<folder>.json`` or ``<folder>_<variant>.json``."""
    matches = [folder for folder in FOLDERS.values() if fixture.stem == folder or fixture.stem.startswith(f"{folder}_")]
    return max(matches, key=len, default=None)


def fixtures_of(folder: str) -> list[Path]:
    return [path for path in sorted(EVENTS_DIR.glob("*.json")) if fixture_folder(path) == folder]


def test_template_has_functions_routes_and_one_authorizer() -> None:
    assert ROUTE_FOLDERS
    assert len(AUTHORIZERS) == 1
    assert set(ROUTE_FOLDERS) | set(AUTHORIZERS) | set(CUSTOM_RESOURCES) | set(SCHEDULED) == set(FOLDERS.values())
    assert not set(CUSTOM_RESOURCES) & (set(ROUTE_FOLDERS) | set(AUTHORIZERS))
    assert not set(SCHEDULED) & (set(ROUTE_FOLDERS) | set(AUTHORIZERS) | set(CUSTOM_RESOURCES))


@pytest.mark.parametrize("folder", sorted(FOLDERS.values()))
def test_function_folder_has_app_py_with_the_handler(folder: str) -> None:
    module, name = HANDLER.split(".")
    source = FUNCTIONS_DIR / folder / f"{module}.py"

    assert source.is_file()
    tree = ast.parse(source.read_text(encoding="utf-8"))
    assert name in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("folder", sorted(FOLDERS.values()))
def test_function_imports_no_other_function(folder: str) -> None:
    tree = ast.parse((FUNCTIONS_DIR / folder / "app.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}

    assert not [m for m in imported if m.split(".")[0] in {"functions", "app", *FOLDERS.values()}]


@pytest.mark.parametrize("folder", sorted(FOLDERS.values()))
def test_function_has_an_event_fixture(folder: str) -> None:
    assert fixtures_of(folder), f"no events/{folder}.json or events/{folder}_<variant>.json"


@pytest.mark.parametrize("folder", sorted(FOLDERS.values()))
def test_function_has_a_test_file(folder: str) -> None:
    assert (FUNCTION_TESTS_DIR / f"test_{folder}.py").is_file()


@pytest.mark.parametrize("folder", ROUTE_FOLDERS)
def test_route_fixtures_are_proxy_events_for_their_route(folder: str) -> None:
    for fixture in fixtures_of(folder):
        event = json.loads(fixture.read_text(encoding="utf-8"))
        assert (event["httpMethod"], event["resource"]) in ROUTES[folder], fixture.name
        assert event["requestContext"]["resourcePath"] == event["resource"], fixture.name


@pytest.mark.parametrize("folder", AUTHORIZERS)
def test_authorizer_fixtures_are_token_events(folder: str) -> None:
    for fixture in fixtures_of(folder):
        event = json.loads(fixture.read_text(encoding="utf-8"))
        assert event["type"] == "TOKEN", fixture.name
        assert event["methodArn"].startswith("arn:aws:execute-api:"), fixture.name


@pytest.mark.parametrize("folder", sorted(CUSTOM_RESOURCES))
def test_custom_resource_fixtures_are_cloudformation_requests_for_their_resource(folder: str) -> None:
    logical_id, resource = CUSTOM_RESOURCES[folder]
    for fixture in fixtures_of(folder):
        event = json.loads(fixture.read_text(encoding="utf-8"))
        assert event["RequestType"] in {"Create", "Update", "Delete"}, fixture.name
        assert (event["ResourceType"], event["LogicalResourceId"]) == (resource["Type"], logical_id), fixture.name
        assert set(event["ResourceProperties"]) == set(resource["Properties"]) - {"ServiceTimeout"}, fixture.name
        assert event["ResponseURL"].startswith("https://"), fixture.name
        assert event["StackId"].startswith("arn:aws:cloudformation:"), fixture.name


@pytest.mark.parametrize("folder", SCHEDULED)
def test_scheduled_fixtures_are_eventbridge_scheduled_events(folder: str) -> None:
    for fixture in fixtures_of(folder):
        event = json.loads(fixture.read_text(encoding="utf-8"))
        assert (event["source"], event["detail-type"]) == ("aws.events", "Scheduled Event"), fixture.name
        assert event["resources"][0].startswith("arn:aws:events:"), fixture.name


def test_each_route_has_exactly_one_function() -> None:
    routes = [route for folder_routes in ROUTES.values() for route in folder_routes]

    assert len(routes) == len(set(routes))


def function_folders(functions_dir: Path) -> set[str]:
    """The folders under ``functions/`` that hold anything but bytecode: a removed function's folder can
    linger with only its ``__pycache__`` (git does not track it), and that is no function."""

    def has_source(folder: Path) -> bool:
        return any(p.is_file() and "__pycache__" not in p.relative_to(folder).parts for p in folder.rglob("*"))

    return {
        path.name
        for path in functions_dir.iterdir()
        if path.is_dir() and not path.name.startswith((".", "_")) and has_source(path)
    }


def test_no_function_folder_is_unused_by_the_template() -> None:
    assert function_folders(FUNCTIONS_DIR) - set(FOLDERS.values()) == set()


def test_a_folder_left_with_only_bytecode_is_no_function(tmp_path: Path) -> None:
    (tmp_path / "removed" / "__pycache__").mkdir(parents=True)
    (tmp_path / "removed" / "__pycache__" / "app.cpython-313.pyc").write_bytes(b"")
    (tmp_path / "kept" / "__pycache__").mkdir(parents=True)
    (tmp_path / "kept" / "app.py").write_text("", encoding="utf-8")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "README").write_text("", encoding="utf-8")

    assert function_folders(tmp_path) == {"kept", "notes"}


def test_no_event_fixture_is_unused_by_the_template() -> None:
    orphans = [path.name for path in EVENTS_DIR.glob("*.json") if fixture_folder(path) is None]

    assert orphans == []


def test_committed_event_fixtures_are_the_generated_ones() -> None:
    generated = generate(ROOT / "template.yaml", ROOT / DOCUMENT)

    # A custom resource's request comes from CloudFormation, a schedule's event from EventBridge, not from the
    # API: their fixtures are written by hand.
    expected = set(FOLDERS.values()) - set(CUSTOM_RESOURCES) - set(SCHEDULED)
    assert {fixture_folder(fixture.path) for fixture in generated} == expected
    for fixture in generated:
        committed = fixture.path.read_text(encoding="utf-8") if fixture.path.exists() else None
        assert committed == fixture.render(), f"{fixture.path.name} is out of date: run `make events`"


def test_fixture_names_map_variants_to_their_function() -> None:
    assert fixture_folder(Path("events/list_prompts_second_page.json")) == "list_prompts"
    assert fixture_folder(Path("events/me.json")) == "me"
    assert fixture_folder(Path("events/metrics.json")) is None


def _readme_table(heading: str) -> list[str]:
    """The first cell of each row of the first table under ``heading`` in the README."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split(f"\n{heading}\n", 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith(("| ---", "| path ", "| module ")):
            rows.append(line.split("|")[1])
        elif rows and not line.startswith("|"):
            break
    return rows


def _backticked(cells: list[str]) -> set[str]:
    return {name for cell in cells for name in re.findall(r"`([^`]+)`", cell)}


def test_readme_layout_names_every_top_level_entry_and_nothing_else() -> None:
    named = {name.split("/")[0] for name in _backticked(_readme_table("## Layout"))}
    requirements = {name for name in tracked_top_level() if name.startswith("requirements")}

    assert named == tracked_top_level() - requirements - {"README.md", ".gitignore"} | {"requirements*.txt"}


def _readme_modules(heading: str) -> set[str]:
    """The ``*.py`` names in the first column of the first table after the README paragraph ``heading``."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split(f"\n{heading}", 1)[1]
    table = section[section.index("\n| module ") :].strip().split("\n\n", 1)[0]
    return {name for row in table.splitlines() for name in re.findall(r"`([a-z_]+\.py)`", row.split("|")[1])}


@pytest.mark.parametrize("package", ["local_api", "contract"])
def test_readme_layout_names_every_module_of_the_dev_packages(package: str) -> None:
    named = _readme_modules(f"`{package}/`, ")

    assert named == {p.name for p in (ROOT / package).glob("*.py")} - {"__init__.py"}


# The template's routes as the local API reads them (Globals and the API's default authorizer applied).
APPLICATION = load_application(ROOT / "template.yaml")


def _readme_routes() -> dict[tuple[str, str], str]:
    """The README's Routes table: (method, path) of each row's first cell, and its auth cell."""
    rows = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Routes\n", 1)[1].splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in line.split("|")[1:-1]]
            method, target = re.findall(r"`([^`]+)`", cells[0])[0].split(" ", 1)
            rows[(method, target.split("?", 1)[0])] = cells[1]
        elif rows and not line.startswith("|"):
            break
    return rows


def test_readme_routes_table_has_a_row_for_every_route_of_the_template_and_no_other() -> None:
    routes = {(route.method, route.path): route.authorizer for route in APPLICATION.routes}
    rows = _readme_routes()

    assert sorted(set(routes) - set(rows)) == [], "add the route's row to README.md's Routes table"
    assert sorted(set(rows) - set(routes)) == [], "a row of README.md's Routes table the template does not route"
    for route, authorizer in routes.items():
        assert rows[route] == ("public" if authorizer is None else "bearer"), route


PREFLIGHT_FUNCTION = "PreflightFunction"


def test_every_routed_path_has_one_public_preflight_of_the_preflight_function() -> None:
    """API Gateway needs an OPTIONS method on each resource (a proxy resource does not stand in for a
    more specific one): a new path adds its event to PreflightFunction."""
    paths = {(route.api.logical_id, route.path) for route in APPLICATION.routes}
    preflights = [(p.api.logical_id, p.path) for p in APPLICATION.preflights]

    assert sorted(preflights) == sorted(paths), "give the path an OPTIONS event of PreflightFunction (template.yaml)"
    for preflight in APPLICATION.preflights:
        assert preflight.function_id == PREFLIGHT_FUNCTION, preflight
        assert preflight.authorizer is None, f"{preflight.path}: a browser's preflight carries no token"
    assert PREFLIGHT_FUNCTION not in {route.function_id for route in APPLICATION.routes}


def test_the_preflight_function_reads_no_database_and_no_secret() -> None:
    properties = RESOURCES[PREFLIGHT_FUNCTION]["Properties"]

    assert "Policies" not in properties
    source = (FUNCTIONS_DIR / FOLDERS[PREFLIGHT_FUNCTION] / "app.py").read_text(encoding="utf-8")
    assert "shared.data" not in source and "create_app" not in source


def test_no_api_has_sams_cors_whose_preflight_names_one_fixed_origin() -> None:
    assert all(api.cors is None for api in APPLICATION.apis.values())


def test_preflights_allow_every_method_the_api_routes() -> None:
    routed = {route.method for route in APPLICATION.routes}

    assert routed | {"OPTIONS"} <= set(ALLOWED_METHODS), "add it to shared.http.contract.ALLOWED_METHODS"
