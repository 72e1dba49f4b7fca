"""The local API end to end, over real HTTP, against ``python -m local_api`` in a subprocess."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
import requests

from local_api.harness import START_TIMEOUT_S
from tests.integration.conftest import StartApi
from tests.integration.helpers import (
    JWT_SECRET,
    PASSWORD,
    LocalApi,
    bearer,
    copy_project,
    login,
    new_user,
    register,
    unique_email,
)

NOT_AUTHENTICATED = {"detail": "Not authenticated"}


def _token(user_id: str, *, secret: str = JWT_SECRET, expires_in: timedelta = timedelta(minutes=5)) -> str:
    now = datetime.now(UTC)
    claims = {"sub": user_id, "iat": now, "exp": now + expires_in, "iss": "prompt-api", "aud": "prompt-api"}
    return jwt.encode(claims, secret, algorithm="HS256")


def _is_uuid(value: str) -> bool:
    return str(uuid.UUID(value)) == value


# The journey -------------------------------------------------------------------------------


def test_health_reports_ok(api: LocalApi) -> None:
    response = api.request("GET", "/api/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"
    assert api.last_request_line() == {
        "method": "GET",
        "path": "/api/health",
        "status": "200",
        "target": "HealthFunction",
        "note": "",
    }


def test_register_login_and_me(api: LocalApi) -> None:
    email = unique_email()

    registered = register(api, email.upper(), username="grace")
    token = login(api, email)
    me = api.request("GET", "/api/me", headers=bearer(token))

    assert registered.status_code == 201
    user = registered.json()
    assert set(user) == {"id", "email", "username", "created_at", "is_active"}
    assert _is_uuid(user["id"])
    assert (user["email"], user["username"], user["is_active"]) == (email, "grace", True)
    assert me.status_code == 200
    assert me.json() == user


def test_register_same_email_in_other_case_is_409(api: LocalApi) -> None:
    email = unique_email()
    assert register(api, email).status_code == 201

    response = register(api, email.upper(), username="someone else")  # not a retry of the first

    assert response.status_code == 409
    assert response.json() == {"detail": "Email already registered"}


def test_login_with_wrong_password_is_401(api: LocalApi) -> None:
    user, _ = new_user(api)

    response = api.request("POST", "/api/login", json={"email": user["email"], "password": "wrong password"})

    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password"}


def test_prompt_create_get_update_delete(api: LocalApi) -> None:
    user, token = new_user(api)
    auth = bearer(token)

    created = api.request("POST", "/api/prompts", json={"content": "Summarise this"}, headers=auth)
    prompt_id = created.json()["id"]
    fetched = api.request("GET", f"/api/prompts/{prompt_id}", headers=auth)
    updated = api.request("PATCH", f"/api/prompts/{prompt_id}", json={"response": "A summary"}, headers=auth)
    deleted = api.request("DELETE", f"/api/prompts/{prompt_id}", headers=auth)
    gone = api.request("GET", f"/api/prompts/{prompt_id}", headers=auth)

    assert created.status_code == 201
    prompt = created.json()
    assert set(prompt) == {"id", "user_id", "content", "response", "created_at", "updated_at"}
    assert (prompt["user_id"], prompt["content"], prompt["response"]) == (user["id"], "Summarise this", None)
    assert fetched.status_code == 200
    assert fetched.json() == prompt
    assert updated.status_code == 200
    assert updated.json()["response"] == "A summary"
    assert updated.json()["content"] == "Summarise this"
    assert datetime.fromisoformat(updated.json()["updated_at"]) >= datetime.fromisoformat(prompt["updated_at"])
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert gone.status_code == 404
    assert gone.json() == {"detail": "Prompt not found"}


def test_prompt_of_another_user_is_404(api: LocalApi) -> None:
    _, owner_token = new_user(api)
    _, other_token = new_user(api)
    prompt = api.request("POST", "/api/prompts", json={"content": "mine"}, headers=bearer(owner_token)).json()

    response = api.request("GET", f"/api/prompts/{prompt['id']}", headers=bearer(other_token))

    assert response.status_code == 404
    assert response.json() == {"detail": "Prompt not found"}


def test_list_prompts_pages_newest_first(api: LocalApi) -> None:
    _, token = new_user(api)
    auth = bearer(token)
    contents = [f"prompt {i}" for i in range(5)]
    for content in contents:
        assert api.request("POST", "/api/prompts", json={"content": content}, headers=auth).status_code == 201

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = api.request("GET", "/api/prompts", params=params, headers=auth)
        assert response.status_code == 200
        page = response.json()
        seen.extend(item["content"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == list(reversed(contents))


def test_largest_prompts_are_created_and_listed_within_lambdas_limits(api: LocalApi) -> None:
    # The largest prompt a client can send: 100,000 emoji of content and of response, JSON-escaped as
    # requests writes it (12 bytes each): a 2.4 MB body, 2.8 MB once API Gateway puts it in the event.
    _, token = new_user(api)
    auth = bearer(token)
    largest = "\U0001f600" * 100_000
    body = json.dumps({"content": largest, "response": largest})
    assert 2_400_000 < len(body) < 2_401_000
    created = []
    for _ in range(3):
        response = api.request("POST", "/api/prompts", data=body, headers={**auth, "Content-Type": "application/json"})
        assert response.status_code == 201
        created.append(response.json()["id"])

    pages, cursor = [], None
    while True:  # the default limit, 20: one page of all three would be 8.4 MB of Lambda response, a 502
        response = api.request("GET", "/api/prompts", params={"cursor": cursor} if cursor else {}, headers=auth)
        assert response.status_code == 200
        assert len(response.content) <= 5_000_000
        pages.append([item["id"] for item in response.json()["items"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert pages == [created[:0:-1], created[:1]]


def test_a_request_whose_event_is_over_lambdas_limit_is_413_without_invoking_the_function(api: LocalApi) -> None:
    # 6.5 MB of body is within API Gateway's 10 MB but over Lambda's 6 MB invocation payload.
    _, token = new_user(api)
    padded = '{"content": "x"' + " " * 6_500_000 + "}"

    response = api.request(
        "POST", "/api/prompts", data=padded, headers={**bearer(token), "Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json() == {"message": "Request Too Long"}
    assert api.request("GET", "/api/prompts", headers=bearer(token)).json()["items"] == []


def test_list_prompts_with_bad_limit_is_422(api: LocalApi) -> None:
    _, token = new_user(api)

    response = api.request("GET", "/api/prompts", params={"limit": "0"}, headers=bearer(token))

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", "limit"]]


def test_status_checks_are_recorded_and_listed(api: LocalApi) -> None:
    name = f"client-{uuid.uuid4().hex[:8]}"

    created = api.request("POST", "/api/status", json={"client_name": name})
    listed = api.request("GET", "/api/status", params={"limit": "1"})

    assert created.status_code == 201
    assert set(created.json()) == {"id", "client_name", "timestamp"}
    assert created.json()["client_name"] == name
    assert listed.status_code == 200
    assert listed.json()["items"] == [created.json()]


# The authorizer ----------------------------------------------------------------------------


def test_protected_route_without_authorization_header_is_401(api: LocalApi) -> None:
    response = api.request("GET", "/api/me")

    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert api.last_request_line()["note"] == "JwtAuthorizer: no token"


def test_malformed_authorization_header_is_401_without_calling_the_authorizer(api: LocalApi) -> None:
    response = api.request("GET", "/api/me", headers={"Authorization": "Token not a bearer!"})

    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert api.last_request_line()["note"] == "JwtAuthorizer: token fails ValidationExpression"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_bearer_scheme_is_case_insensitive(api: LocalApi, scheme: str) -> None:
    user, token = new_user(api)

    response = api.request("GET", "/api/me", headers={"Authorization": f"{scheme} {token}"})

    assert response.status_code == 200, response.text
    assert response.json()["id"] == user["id"]


def test_deeply_nested_json_body_is_422(api: LocalApi) -> None:
    response = api.request(
        "POST", "/api/register", data="[" * 100_000 + "]" * 100_000, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_json_media_type_in_capitals_is_json(api: LocalApi) -> None:
    body = {"client_name": "upper-case-client"}

    response = api.request("POST", "/api/status", data=json.dumps(body), headers={"Content-Type": "Application/JSON"})

    assert response.status_code == 201, response.text
    assert response.json()["client_name"] == "upper-case-client"


def test_expired_token_is_401(api: LocalApi) -> None:
    user, _ = new_user(api)

    response = api.request("GET", "/api/me", headers=bearer(_token(user["id"], expires_in=timedelta(minutes=-1))))

    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert api.last_request_line()["note"] == "JwtAuthorizer: invoked, Unauthorized"


def test_token_signed_with_another_secret_is_401(api: LocalApi) -> None:
    user, _ = new_user(api)
    forged = _token(user["id"], secret="another-secret-that-is-also-long-enough-0000")

    response = api.request("GET", "/api/me", headers=bearer(forged))

    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED


def test_authorizer_result_is_cached_per_token(api: LocalApi) -> None:
    user, token = new_user(api)

    first = api.request("GET", "/api/me", headers=bearer(token))
    first_line = api.last_request_line()
    second = api.request("GET", "/api/prompts", headers=bearer(token))
    second_line = api.last_request_line()

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["id"] == user["id"]
    assert (first_line["target"], first_line["note"]) == ("MeFunction", "JwtAuthorizer: invoked")
    assert (second_line["target"], second_line["note"]) == ("ListPromptsFunction", "JwtAuthorizer: cached")


def test_metrics_stay_out_of_the_terminal_unless_asked_for(start_api: StartApi) -> None:
    quiet = start_api("--in-memory", env={"JWT_SECRET": JWT_SECRET})
    shown = start_api("--in-memory", env={"JWT_SECRET": JWT_SECRET, "POWERTOOLS_METRICS_DISABLED": "false"})

    for server in (quiet, shown):
        assert register(server).status_code == 201

    assert '"Registered"' not in quiet.output()
    assert '"ColdStart"' not in quiet.output()  # Powertools' single_metric ignores the setting: shared.metrics
    assert '"Registered"' in shown.output()
    assert '"ColdStart"' in shown.output()


def test_the_authorizers_log_lines_carry_their_own_requests_correlation_id(start_api: StartApi) -> None:
    # All functions share one Powertools logger in this process; the authorizer sets no correlation id.
    server = start_api("--in-memory", env={"JWT_SECRET": JWT_SECRET})
    before = server.request("GET", "/api/health")
    refused = server.request("GET", "/api/me", headers=bearer("not.a.token"))

    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    (authorizer,) = [line for line in lines if line.get("message") == "Bearer token refused"]
    assert refused.status_code == 401
    assert before.headers["x-amzn-RequestId"] != refused.headers["x-amzn-RequestId"]
    assert authorizer["correlation_id"] == refused.headers["x-amzn-RequestId"]


def test_parameter_override_of_authorizer_cache_seconds_to_zero_invokes_it_every_time(start_api: StartApi) -> None:
    server = start_api(
        "--in-memory", "--parameter-overrides", "AuthorizerCacheSeconds=0", env={"JWT_SECRET": JWT_SECRET}
    )
    _, token = new_user(server)

    notes = []
    for _ in range(2):
        assert server.request("GET", "/api/me", headers=bearer(token)).status_code == 200
        notes.append(server.last_request_line()["note"])

    assert notes == ["JwtAuthorizer: invoked", "JwtAuthorizer: invoked"]


def test_parameter_override_of_an_unknown_parameter_refuses_to_start(tmp_path: Path) -> None:
    server = LocalApi("--in-memory", "--parameter-overrides", "NoSuchParameter=1", log=tmp_path / "out.log")
    try:
        status = server.process.wait(timeout=START_TIMEOUT_S)
    finally:
        server.stop()

    assert status == 2
    assert server.output() == "local_api: --parameter-overrides: NoSuchParameter not a parameter of template.yaml\n"


def test_a_functions_own_database_name_refuses_to_start_naming_function_and_variable(tmp_path: Path) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"LoginFunction": {"MONGODB_DB_NAME": "login_only"}}), encoding="utf-8")
    server = LocalApi("--in-memory", "--env-vars", str(env_file), log=tmp_path / "out.log")
    try:
        status = server.process.wait(timeout=START_TIMEOUT_S)
    finally:
        server.stop()

    assert status == 2
    assert server.output() == (
        "local_api: LoginFunction: a MONGODB_DB_NAME of its own is not supported (here all functions run in one "
        "process and share one database client, which reads it once): set it under 'Parameters' in env.json or "
        "in the shell, for every function\n"
    )


# API Gateway's own answers -----------------------------------------------------------------


def test_cors_preflight_is_answered_by_the_preflight_function(api: LocalApi) -> None:
    response = api.request(
        "OPTIONS",
        "/api/prompts/123",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "PATCH"},
    )

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,POST,PATCH,DELETE,OPTIONS"
    allowed_headers = set(response.headers["Access-Control-Allow-Headers"].split(","))
    assert {"Authorization", "Content-Type", "Idempotency-Key"} <= allowed_headers
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert api.last_request_line()["target"] == "PreflightFunction"


TWO_ORIGINS = "https://app.example.com,https://admin.example.com"


@pytest.fixture
def two_origins(start_api: StartApi) -> LocalApi:
    return start_api(
        "--in-memory", "--parameter-overrides", f"CorsAllowOrigin={TWO_ORIGINS}", env={"JWT_SECRET": JWT_SECRET}
    )


def test_with_several_origins_a_preflight_names_the_requests_own_allowed_origin_or_none(two_origins: LocalApi) -> None:
    answers = {
        origin: two_origins.request(
            "OPTIONS", "/api/me", headers={"Origin": origin, "Access-Control-Request-Method": "DELETE"}
        )
        for origin in ("https://app.example.com", "https://admin.example.com", "https://evil.example.com")
    }

    for origin, response in answers.items():
        assert response.status_code == 204, origin
        assert response.headers["Vary"] == "Origin", origin
    assert answers["https://app.example.com"].headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert answers["https://admin.example.com"].headers["Access-Control-Allow-Origin"] == "https://admin.example.com"
    assert "Access-Control-Allow-Origin" not in answers["https://evil.example.com"].headers


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/api/me", 401), ("GET", "/api/nothing-here", 404)])
def test_with_several_origins_a_gateway_response_names_no_origin(
    two_origins: LocalApi, method: str, path: str, status: int
) -> None:
    response = two_origins.request(method, path, headers={"Origin": "https://app.example.com"})

    assert response.status_code == status
    assert not any(name.lower().startswith("access-control-") for name in response.headers)


def test_a_path_without_a_preflight_event_gets_the_gateways_404(api: LocalApi) -> None:
    response = api.request("OPTIONS", "/api/nothing-here", headers={"Origin": "http://localhost:5173"})

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_unknown_route_is_404_detail(api: LocalApi) -> None:
    response = api.request("GET", "/api/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_unknown_method_on_a_known_path_is_404_detail(api: LocalApi) -> None:
    response = api.request("PUT", "/api/health")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_concurrent_registrations_of_one_email_give_one_201_and_one_409(api: LocalApi) -> None:
    email = unique_email()
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def attempt() -> None:
        with requests.Session() as session:
            barrier.wait()
            body = {"email": email, "username": f"twin {threading.get_ident()}", "password": PASSWORD}
            statuses.append(session.post(api.url("/api/register"), json=body, timeout=10).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 409]


# The proxy event, the context and the environment (sample application) -----------------------


def test_event_has_path_query_headers_and_request_context(sample_app: LocalApi) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", sample_app.port, timeout=10)
    connection.putrequest("PUT", "/items/a%20b?x=1&x=2&flag=&y=3")
    connection.putheader("X-Token", "allow")
    connection.putheader("X-Multi", "first")
    connection.putheader("X-Multi", "second")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", "11")
    connection.endheaders(b'{"a": "b"}\n')
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()

    event = answer["event"]
    assert response.status == 200
    assert response.getheader("X-Echo") == "one, two"
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/items/{item_id}", "/items/a b", "PUT")
    assert event["pathParameters"] == {"item_id": "a b"}
    assert event["queryStringParameters"] == {"x": "2", "flag": "", "y": "3"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "flag": [""], "y": ["3"]}
    assert event["headers"]["X-Multi"] == "second"
    assert event["multiValueHeaders"]["X-Multi"] == ["first", "second"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": "b"}\n', False)
    context = event["requestContext"]
    assert (context["stage"], context["resourcePath"], context["httpMethod"]) == ("test", "/items/{item_id}", "PUT")
    assert context["path"] == "/test/items/a b"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["headers"]["X-Forwarded-Port"] == str(sample_app.port)
    assert _is_uuid(context["requestId"])
    assert response.getheader("x-amzn-RequestId") == context["requestId"]
    assert isinstance(context["requestTimeEpoch"], int)
    assert context["authorizer"] == {
        "principalId": "user-1",
        "user_id": "user-1",
        "admin": "false",
        "level": "3",
        "integrationLatency": context["authorizer"]["integrationLatency"],
    }


def test_greedy_path_and_literal_beats_parameter(sample_app: LocalApi) -> None:
    greedy = sample_app.request("GET", "/files/docs/2026/report.txt").json()["event"]
    literal = sample_app.request("GET", "/items/public").json()["event"]

    assert (greedy["resource"], greedy["pathParameters"]) == ("/files/{proxy+}", {"proxy": "docs/2026/report.txt"})
    assert (literal["resource"], literal["pathParameters"]) == ("/items/public", None)
    assert "authorizer" not in literal["requestContext"]


def test_binary_bodies_travel_as_base64(sample_app: LocalApi) -> None:
    sent = sample_app.request(
        "POST",
        "/items/bin",
        data=b"\x00\xff\x10",
        headers={"X-Token": "allow", "Content-Type": "application/octet-stream"},
    )
    received = sample_app.request("GET", "/items/bin", params={"binary": "1"}, headers={"X-Token": "allow"})

    assert sent.status_code == 200
    event = sent.json()["event"]
    assert (event["body"], event["isBase64Encoded"]) == (base64.b64encode(b"\x00\xff\x10").decode(), True)
    assert received.status_code == 200
    assert received.content == b"\x00\x01\xfe\xff"
    assert received.headers["Content-Type"] == "application/octet-stream"


def test_function_gets_context_and_template_environment(sample_app: LocalApi) -> None:
    answer = sample_app.request("GET", "/items/public").json()

    assert answer["context"]["function_name"] == "EchoFunction"
    assert answer["context"]["memory_limit_in_mb"] == 512
    assert answer["context"]["invoked_function_arn"].endswith(":function:EchoFunction")
    assert answer["context"]["remaining_ms_positive"] is True
    assert answer["environment"] == {
        "SAMPLE_GREETING": "hello",
        "SAMPLE_SUB": "hello-us-east-1-test",
        "SAMPLE_SECRET_ARN": None,
        "SAMPLE_NO_DEFAULT": None,
        "SAMPLE_OVERRIDDEN": "from-process",
        "SAMPLE_OWN": "echo-from-env-file",
        "SAMPLE_FROM_ENV_FILE": "for-everyone",
    }


@pytest.mark.parametrize(
    ("token", "status", "body"),
    [
        ("deny", 403, {"message": "User is not authorized to access this resource with an explicit deny"}),
        ("unauthorized", 401, {"message": "Unauthorized"}),
        ("crash", 503, {"detail": "Authorizer down"}),
        ("no-principal", 500, {"detail": "Authorizer configuration error"}),
        ("Not Valid", 401, {"message": "Unauthorized"}),
    ],
)
def test_authorizer_verdicts_become_gateway_responses(
    sample_app: LocalApi, token: str, status: int, body: dict[str, str]
) -> None:
    response = sample_app.request("GET", "/items/1", headers={"X-Token": token})

    assert response.status_code == status
    assert response.json() == body


def test_policy_without_a_matching_allow_is_403(sample_app: LocalApi) -> None:
    allowed = sample_app.request("GET", "/items/1", headers={"X-Token": "allow-get"})
    refused = sample_app.request("DELETE", "/items/1", headers={"X-Token": "allow-get"})

    assert allowed.status_code == 200
    assert refused.status_code == 403
    assert refused.json() == {"message": "User is not authorized to access this resource"}


def test_crashing_function_is_502_detail_without_traceback(sample_app: LocalApi) -> None:
    response = sample_app.request("GET", "/crash")

    assert response.status_code == 502
    assert response.json() == {"detail": "Internal server error"}
    assert sample_app.last_request_line()["target"] == "CrashFunction"
    assert "RuntimeError: secret internals that must never reach the client" in sample_app.output()


def test_invalid_proxy_response_is_502_detail(sample_app: LocalApi) -> None:
    response = sample_app.request("GET", "/invalid")

    assert response.status_code == 502
    assert response.json() == {"detail": "Internal server error"}
    assert "CrashFunction returned an invalid Lambda proxy response" in sample_app.output()


def test_preflight_is_authorized_when_the_default_authorizer_covers_it(sample_app: LocalApi) -> None:
    # The fixture leaves AddDefaultAuthorizerToCorsPreflight at SAM's default (true).
    refused = sample_app.request("OPTIONS", "/items/1")
    response = sample_app.request("OPTIONS", "/items/1", headers={"X-Token": "allow"})

    assert refused.status_code == 401
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,PUT"


# Hot reload and persistence ----------------------------------------------------------------


def test_edits_to_shared_and_handlers_apply_without_restart_or_data_loss(tmp_path: Path, start_api: StartApi) -> None:
    project = copy_project(tmp_path / "project")
    server = start_api("--in-memory", cwd=project, env={"JWT_SECRET": JWT_SECRET})
    user, token = new_user(server)

    with (project / "shared" / "__init__.py").open("a") as f:
        f.write('\n__version__ = "9.9.9-reloaded"\n')
    shared_changed = server.request("GET", "/api/health")
    me_after_shared = server.request("GET", "/api/me", headers=bearer(token))
    with (project / "functions" / "health" / "app.py").open("a") as f:
        f.write(
            '\n\ndef lambda_handler(event, context):\n    return {"statusCode": 200, "body": \'{"edited": true}\'}\n'
        )
    handler_changed = server.request("GET", "/api/health")

    assert shared_changed.status_code == 200
    assert shared_changed.json()["version"] == "9.9.9-reloaded"
    assert me_after_shared.status_code == 200
    assert me_after_shared.json() == user
    assert handler_changed.status_code == 200
    assert handler_changed.json() == {"edited": True}
    assert login(server, user["email"])


def test_store_and_tokens_survive_a_restart(tmp_path: Path, start_api: StartApi) -> None:
    data_dir = tmp_path / "data"
    first = start_api("--data-dir", str(data_dir))
    user, token = new_user(first)
    prompt = first.request("POST", "/api/prompts", json={"content": "keep me"}, headers=bearer(token)).json()
    first.stop()

    second = start_api("--data-dir", str(data_dir))
    listed = second.request("GET", "/api/prompts", headers=bearer(token))
    duplicate = register(second, user["email"], username="someone else")

    assert listed.status_code == 200
    assert listed.json() == {"items": [prompt], "next_cursor": None}
    assert duplicate.status_code == 409
    assert (data_dir / "store.json").is_file()
    assert login(second, user["email"])


def test_second_server_on_one_data_dir_refuses_to_start(tmp_path: Path, start_api: StartApi) -> None:
    data_dir = tmp_path / "data"
    first = start_api("--data-dir", str(data_dir), env={"JWT_SECRET": JWT_SECRET})
    user, token = new_user(first)

    second = LocalApi("--data-dir", str(data_dir), env={"JWT_SECRET": JWT_SECRET}, log=tmp_path / "second.log")
    try:
        status = second.process.wait(timeout=START_TIMEOUT_S)
    finally:
        second.stop()
    me = first.request("GET", "/api/me", headers=bearer(token))

    assert status == 2
    assert second.output() == (
        f"local_api: {data_dir} is in use by another local API (pid {first.process.pid}): stop that one, "
        "or start this one with --data-dir <another dir> or --in-memory\n"
    )
    assert (me.status_code, me.json()) == (200, user)


def test_mongodb_uri_replaces_the_embedded_store(tmp_path: Path, start_api: StartApi) -> None:
    data_dir = tmp_path / "data"
    unreachable = {"MONGODB_URI": "mongodb://127.0.0.1:9/?directConnection=true", "MONGODB_TIMEOUT_MS": "200"}
    server = start_api("--data-dir", str(data_dir), env={**unreachable, "JWT_SECRET": JWT_SECRET}, healthy=False)

    health = server.request("GET", "/api/health")
    write = server.request("POST", "/api/status", json={"client_name": "web"})

    assert health.status_code == 503
    assert health.json()["status"] == "degraded"
    assert health.json()["database"] == "unavailable"
    assert write.status_code == 503
    assert write.json() == {"detail": "Database unavailable"}
    assert not (data_dir / "store.json").exists()
    assert "Store: MongoDB at MONGODB_URI" in server.output()


def _raw_exchange(api: LocalApi, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (a client that lies about its body), read the whole answer."""
    connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=15)
    connection.connect()
    assert connection.sock is not None
    connection.sock.sendall(request)
    response = http.client.HTTPResponse(connection.sock, method="POST")
    response.begin()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


@pytest.mark.parametrize(
    ("request_bytes", "status", "detail"),
    [
        pytest.param(  # announces 100 bytes, sends 2: answered after the 5 s body timeout
            b"POST /api/status HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{}",
            408,
            "The request body did not arrive in time",
            id="body shorter than its Content-Length",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            b"POST /api/status HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n",
            413,
            "The request body is over the 10 MB limit",
            id="body over API Gateway's limit",
        ),
    ],
)
def test_a_body_the_tool_cannot_take_is_a_json_error_and_the_server_goes_on(
    api: LocalApi, request_bytes: bytes, status: int, detail: str
) -> None:
    answered, headers, body = _raw_exchange(api, request_bytes)

    assert answered == status
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"detail": detail}
    assert api.request("GET", "/api/health").status_code == 200
