"""The gateway core stands alone: the tool's own routes plug in, the docs feature is not imported."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from local_api.authorizer import TokenAuthorizers
from local_api.environment import EnvironmentPlan, EnvironmentSwitcher
from local_api.events import HttpRequest
from local_api.gateway import Gateway
from local_api.responses import HttpResponse
from local_api.runtime import FunctionRuntime
from local_api.template import Application, Function, Route, SamApi
from tests.support import ROOT


def test_gateway_does_not_import_the_docs_or_the_contract() -> None:
    code = "import sys, json, local_api.gateway; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)

    loaded = json.loads(result.stdout)
    assert "local_api.gateway" in loaded
    assert "local_api.docs" not in loaded
    assert not [m for m in loaded if m == "contract" or m.startswith("contract.")]


class Pages:
    """Extra routes as the docs feature provides them."""

    label = "test pages"
    paths: Sequence[str] = ("/pages", "/api/pages")

    def handle(self, request: HttpRequest) -> HttpResponse | None:
        if request.path not in self.paths:
            return None
        return HttpResponse(200, [("Content-Type", "text/plain")], b"page")


def _gateway(tmp_path: Path) -> Gateway:
    api = SamApi("Api", "prod")
    function = Function("Fn", tmp_path, "app.handler", 128, 3, {})
    application = Application(
        tmp_path, {"Fn": function}, {"Api": api}, [Route(api, "Fn", "/api/{proxy+}", "GET", None)], {}
    )
    runtime = FunctionRuntime(
        application,
        EnvironmentSwitcher(EnvironmentPlan({"Fn": {}}, frozenset())),
        None,
        region="us-east-1",
        account_id="123456789012",
        hot_reload=False,
    )
    return Gateway(
        application, runtime, TokenAuthorizers(), region="us-east-1", account_id="123456789012", extra_routes=[Pages()]
    )


def _get(path: str) -> HttpRequest:
    return HttpRequest("GET", path, "", [], b"", "127.0.0.1")


def test_extra_routes_answer_where_no_template_route_matches(tmp_path: Path) -> None:
    gateway = _gateway(tmp_path)

    page = gateway.handle(_get("/pages"))
    missing = gateway.handle(_get("/nothing"))

    assert (page.response.status, page.response.body, page.target) == (200, b"page", "test pages")
    assert (missing.response.status, missing.target) == (403, "API Gateway")


def test_template_routes_shadow_extra_paths(tmp_path: Path) -> None:
    assert _gateway(tmp_path).shadowed(Pages.paths) == ["/api/pages"]
