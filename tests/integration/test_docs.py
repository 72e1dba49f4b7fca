"""The local API's dev-only docs: the live OpenAPI document and Swagger UI, served offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from contract.openapi import DOCUMENT
from local_api.docs import DOCS_PATH, DOCUMENT_PATH
from tests.integration.conftest import StartApi
from tests.integration.helpers import JWT_SECRET, ROOT, SAMPLE_APP, LocalApi, bearer, copy_project, new_user

ASSETS = {
    "/api/docs/swagger-ui-bundle.min.js": "application/javascript; charset=utf-8",
    "/api/docs/swagger-ui.min.css": "text/css; charset=utf-8",
}


def test_openapi_json_is_the_committed_document(api: LocalApi) -> None:
    response = api.request("GET", DOCUMENT_PATH)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == json.loads((ROOT / DOCUMENT).read_text(encoding="utf-8"))
    assert api.last_request_line()["target"] == "local API docs"


def test_docs_page_loads_swagger_ui_and_the_document_from_the_local_api(api: LocalApi) -> None:
    page = api.request("GET", DOCS_PATH)

    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN: every URL is this server's
    assert f'url: "{DOCUMENT_PATH}"' in page.text
    assert "persistAuthorization: true" in page.text
    for path, content_type in ASSETS.items():
        assert f'"{path}"' in page.text
        asset = api.request("GET", path)
        assert asset.status_code == 200, path
        assert asset.headers["Content-Type"] == content_type
        assert len(asset.content) > 100_000


def test_docs_paths_answer_get_and_head_only(api: LocalApi) -> None:
    head = api.request("HEAD", DOCS_PATH)
    post = api.request("POST", DOCS_PATH)
    other = api.request("GET", "/api/docs/other.js")

    assert head.status_code == 200
    assert head.content == b""
    assert (post.status_code, post.json()) == (404, {"detail": "Not Found"})
    assert (other.status_code, other.json()) == (404, {"detail": "Not Found"})


def test_banner_names_both_docs_urls(api: LocalApi) -> None:
    assert f"API docs: {api.base_url}{DOCS_PATH} (Swagger UI), {api.base_url}{DOCUMENT_PATH}" in api.output()


def test_document_follows_hot_reload_and_leaves_the_handlers_alone(tmp_path: Path, start_api: StartApi) -> None:
    project = copy_project(tmp_path / "project")
    server = start_api("--in-memory", cwd=project, env={"JWT_SECRET": JWT_SECRET})
    user, token = new_user(server)
    before = server.request("GET", DOCUMENT_PATH).json()
    me_after_document = server.request("GET", "/api/me", headers=bearer(token))

    app_py = project / "functions" / "me" / "app.py"
    app_py.write_text(app_py.read_text().replace("The account the bearer token belongs to.", "Who am I? Edited."))
    after = server.request("GET", DOCUMENT_PATH).json()
    me_after_edit = server.request("GET", "/api/me", headers=bearer(token))

    assert before["paths"]["/api/me"]["get"]["summary"] == "The account the bearer token belongs to."
    assert after["paths"]["/api/me"]["get"]["summary"] == "Who am I? Edited."
    assert (me_after_document.status_code, me_after_document.json()) == (200, user)
    assert (me_after_edit.status_code, me_after_edit.json()) == (200, user)


def test_template_without_powertools_resolvers_gets_a_500_detail_and_keeps_serving(sample_app: LocalApi) -> None:
    document = sample_app.request("GET", DOCUMENT_PATH)
    page = sample_app.request("GET", DOCS_PATH)
    route = sample_app.request("GET", "/items/public")

    assert document.status_code == 500
    detail = document.json()["detail"]
    assert detail.startswith("The OpenAPI document could not be built: DocumentError: CrashFunction: ")
    assert "has no Powertools resolver named `app`" in detail
    assert "The OpenAPI document could not be built" in sample_app.output()
    assert page.status_code == 200
    assert route.status_code == 200


def test_template_routes_win_over_the_docs_paths(tmp_path: Path, start_api: StartApi) -> None:
    shutil.copytree(SAMPLE_APP / "functions" / "echo", tmp_path / "echo")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  EchoFunction:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      CodeUri: echo/\n"
        "      Handler: app.lambda_handler\n"
        "      Runtime: python3.13\n"
        "      Events:\n"
        "        Everything:\n"
        "          Type: Api\n"
        "          Properties: {Path: '/api/{proxy+}', Method: get}\n"
    )
    server = start_api("--in-memory", "--template", str(tmp_path / "template.yaml"), healthy=False)

    response = server.request("GET", DOCS_PATH)

    assert response.status_code == 200
    assert response.json()["event"]["pathParameters"] == {"proxy": "docs"}
    assert "API docs: not served, the template routes /api/openapi.json, /api/docs" in server.output()
