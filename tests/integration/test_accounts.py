"""Accounts and sessions (HTTP contract v2) end to end, over real HTTP, against the local API.

Where a test shows that an ended session's access token is refused, it uses a server started with
``AuthorizerCacheSeconds=0``: the authorizer is then consulted on every request. With the default
cache (60 s) API Gateway keeps serving a cached Allow for that long; one test pins that window.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.conftest import StartApi
from tests.integration.helpers import (
    JWT_SECRET,
    LocalApi,
    bearer,
    register,
    running,
    unique_email,
)
from tests.support import PASSWORD

NOT_AUTHENTICATED = {"detail": "Not authenticated"}
INVALID_REFRESH_TOKEN = {"detail": "Invalid refresh token"}
INVALID_CREDENTIALS = {"detail": "Incorrect email or password"}
INCORRECT_PASSWORD = {"detail": "Incorrect password"}
TOO_MANY_LOGINS = {"detail": "Too many failed logins; try again later"}
TOKEN_FIELDS = {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
MAX_FAILURES = 3
WINDOW_MINUTES = 2
NEW_PASSWORD = "battery staple horse"


@pytest.fixture(scope="module")
def strict_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    """The API with no authorizer cache (every request asks the authorizer), no refresh grace (a spent
    refresh token presented again is reuse at once) and 3 failed logins allowed."""
    log = tmp_path_factory.mktemp("local-api-strict") / "output.log"
    env = {
        "JWT_SECRET": JWT_SECRET,
        "LOGIN_MAX_FAILURES": str(MAX_FAILURES),
        "LOGIN_WINDOW_MINUTES": str(WINDOW_MINUTES),
        "REFRESH_REUSE_GRACE_SECONDS": "0",
    }
    with running("--in-memory", "--parameter-overrides", "AuthorizerCacheSeconds=0", env=env, log=log) as server:
        yield server


def _login(server: LocalApi, email: str, password: str = PASSWORD) -> requests.Response:
    return server.request("POST", "/api/login", json={"email": email, "password": password})


def _refresh(server: LocalApi, refresh_token: str) -> requests.Response:
    return server.request("POST", "/api/token/refresh", json={"refresh_token": refresh_token})


def _me(server: LocalApi, access_token: str) -> requests.Response:
    return server.request("GET", "/api/me", headers=bearer(access_token))


def _signed_up(server: LocalApi, username: str = "ada") -> tuple[dict[str, Any], dict[str, Any]]:
    """A registered user and the token pair of a first login."""
    email = unique_email()
    registered = register(server, email, username=username)
    assert registered.status_code == 201, registered.text
    logged_in = _login(server, email)
    assert logged_in.status_code == 200, logged_in.text
    return registered.json(), logged_in.json()


def _assert_answer(response: requests.Response, status: int, body: dict[str, str]) -> None:
    assert response.status_code == status
    assert response.json() == body


def _assert_token_pair(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    pair: dict[str, Any] = response.json()
    assert set(pair) == TOKEN_FIELDS
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 60 * 60
    assert pair["refresh_expires_in"] == 30 * 24 * 60 * 60
    assert pair["access_token"].count(".") == 2
    assert len(pair["refresh_token"]) >= 43  # at least 256 bits, base64url
    assert response.headers["Cache-Control"] == "no-store"
    return pair


def _at_once(count: int, call: Callable[[requests.Session], requests.Response]) -> list[requests.Response]:
    """``call`` from ``count`` threads released together, each with its own connection."""
    barrier = threading.Barrier(count)
    responses: list[requests.Response] = []
    lock = threading.Lock()

    def attempt() -> None:
        with requests.Session() as session:
            barrier.wait()
            response = call(session)
            with lock:
                responses.append(response)

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(responses) == count
    return responses


# Token pairs -------------------------------------------------------------------------------


def test_login_returns_a_token_pair_that_no_cache_may_keep(api: LocalApi) -> None:
    email = unique_email()
    user = register(api, email).json()

    response = _login(api, email)

    pair = _assert_token_pair(response)
    assert response.headers["Pragma"] == "no-cache"
    assert _me(api, pair["access_token"]).json() == user


def test_refresh_returns_a_new_token_pair_that_no_cache_may_keep(api: LocalApi) -> None:
    user, pair = _signed_up(api)

    response = _refresh(api, pair["refresh_token"])

    new_pair = _assert_token_pair(response)
    assert new_pair["refresh_token"] != pair["refresh_token"]
    assert new_pair["access_token"] != pair["access_token"]
    me = _me(api, new_pair["access_token"])
    assert me.status_code == 200
    assert me.json() == user


def test_refresh_retried_within_the_grace_gets_the_same_successor(api: LocalApi) -> None:
    _, pair = _signed_up(api)
    first = _assert_token_pair(_refresh(api, pair["refresh_token"]))

    retried = _assert_token_pair(_refresh(api, pair["refresh_token"]))  # the first answer was lost

    assert retried["refresh_token"] == first["refresh_token"]
    assert retried["access_token"] != first["access_token"]
    assert _me(api, first["access_token"]).status_code == _me(api, retried["access_token"]).status_code == 200
    _assert_token_pair(_refresh(api, retried["refresh_token"]))


def test_refresh_spends_the_refresh_token_it_was_given_once_its_successor_is_used(api: LocalApi) -> None:
    _, pair = _signed_up(api)
    new_pair = _assert_token_pair(_refresh(api, pair["refresh_token"]))
    _assert_token_pair(_refresh(api, new_pair["refresh_token"]))

    again = _refresh(api, pair["refresh_token"])

    _assert_answer(again, 401, INVALID_REFRESH_TOKEN)
    assert again.headers["WWW-Authenticate"] == "Bearer"
    assert "access_token" not in again.text
    assert new_pair["refresh_token"] not in again.text


def test_unknown_refresh_token_is_401(api: LocalApi) -> None:
    response = _refresh(api, "A" * 43)

    _assert_answer(response, 401, INVALID_REFRESH_TOKEN)


# Reuse detection ---------------------------------------------------------------------------


def test_reusing_a_spent_refresh_token_ends_the_session(strict_api: LocalApi) -> None:
    _, pair = _signed_up(strict_api)
    rotated = _assert_token_pair(_refresh(strict_api, pair["refresh_token"]))
    assert _me(strict_api, rotated["access_token"]).status_code == 200

    reused = _refresh(strict_api, pair["refresh_token"])
    successor = _refresh(strict_api, rotated["refresh_token"])
    old_access = _me(strict_api, pair["access_token"])
    new_access = _me(strict_api, rotated["access_token"])

    _assert_answer(reused, 401, INVALID_REFRESH_TOKEN)
    _assert_answer(successor, 401, INVALID_REFRESH_TOKEN)
    assert (old_access.status_code, new_access.status_code) == (401, 401)
    assert new_access.json() == NOT_AUTHENTICATED
    assert strict_api.last_request_line()["note"] == "JwtAuthorizer: invoked, Unauthorized"


def test_reusing_a_refresh_token_spent_two_rotations_ago_ends_the_session(strict_api: LocalApi) -> None:
    _, first = _signed_up(strict_api)
    second = _assert_token_pair(_refresh(strict_api, first["refresh_token"]))
    third = _assert_token_pair(_refresh(strict_api, second["refresh_token"]))

    reused = _refresh(strict_api, first["refresh_token"])

    _assert_answer(reused, 401, INVALID_REFRESH_TOKEN)
    assert _refresh(strict_api, third["refresh_token"]).status_code == 401
    assert _me(strict_api, third["access_token"]).status_code == 401


def test_reuse_leaves_other_sessions_of_the_user_alone(strict_api: LocalApi) -> None:
    user, pair = _signed_up(strict_api)
    other = _assert_token_pair(_login(strict_api, user["email"]))
    _assert_token_pair(_refresh(strict_api, pair["refresh_token"]))

    assert _refresh(strict_api, pair["refresh_token"]).status_code == 401

    assert _me(strict_api, other["access_token"]).status_code == 200
    _assert_token_pair(_refresh(strict_api, other["refresh_token"]))


def test_with_the_default_authorizer_cache_an_ended_sessions_access_token_passes_until_the_cache_expires(
    api: LocalApi,
) -> None:
    # The documented window: API Gateway serves its cached Allow for AuthorizerCacheSeconds (60).
    _, pair = _signed_up(api)
    successor = _assert_token_pair(_refresh(api, pair["refresh_token"]))
    rotated = _assert_token_pair(_refresh(api, successor["refresh_token"]))  # the successor is used
    assert _me(api, rotated["access_token"]).status_code == 200
    assert api.last_request_line()["note"] == "JwtAuthorizer: invoked"
    assert _refresh(api, pair["refresh_token"]).status_code == 401  # reuse: the session ends

    cached = _me(api, rotated["access_token"])

    assert cached.status_code == 200
    assert api.last_request_line()["note"] == "JwtAuthorizer: cached"
    assert _refresh(api, rotated["refresh_token"]).status_code == 401  # the refresh token is refused at once


def test_concurrent_refreshes_of_one_token_all_get_the_same_successor(api: LocalApi) -> None:
    # The local API runs one invocation at a time, so this checks that the spend is a conditional
    # update (the later requests find the token spent, and its successor unused), not a race between
    # processes; two servers could only share a store through MongoDB (see test_mongodb.py).
    _, pair = _signed_up(api)
    body = {"refresh_token": pair["refresh_token"]}

    responses = _at_once(8, lambda s: s.post(api.url("/api/token/refresh"), json=body, timeout=30))

    pairs = [_assert_token_pair(r) for r in responses]
    assert len({p["refresh_token"] for p in pairs}) == 1
    _assert_token_pair(_refresh(api, pairs[0]["refresh_token"]))


def test_concurrent_refreshes_of_one_token_without_grace_give_one_new_pair(strict_api: LocalApi) -> None:
    _, pair = _signed_up(strict_api)
    body = {"refresh_token": pair["refresh_token"]}

    responses = _at_once(8, lambda s: s.post(strict_api.url("/api/token/refresh"), json=body, timeout=30))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [401] * 7
    winner = next(r for r in responses if r.status_code == 200)
    _assert_token_pair(winner)
    assert all(r.json() == INVALID_REFRESH_TOKEN for r in responses if r.status_code == 401)


# Logout ------------------------------------------------------------------------------------


def test_logout_ends_only_the_callers_session(strict_api: LocalApi) -> None:
    user, pair = _signed_up(strict_api)
    other = _assert_token_pair(_login(strict_api, user["email"]))

    response = strict_api.request("POST", "/api/logout", headers=bearer(pair["access_token"]))

    assert response.status_code == 204
    assert response.content == b""
    _assert_answer(_me(strict_api, pair["access_token"]), 401, NOT_AUTHENTICATED)
    _assert_answer(_refresh(strict_api, pair["refresh_token"]), 401, INVALID_REFRESH_TOKEN)
    assert _me(strict_api, other["access_token"]).json() == user
    _assert_token_pair(_refresh(strict_api, other["refresh_token"]))


def test_logout_with_an_access_token_from_before_a_refresh_ends_the_whole_session(strict_api: LocalApi) -> None:
    _, pair = _signed_up(strict_api)
    rotated = _assert_token_pair(_refresh(strict_api, pair["refresh_token"]))

    response = strict_api.request("POST", "/api/logout", headers=bearer(pair["access_token"]))

    assert response.status_code == 204
    assert _refresh(strict_api, rotated["refresh_token"]).json() == INVALID_REFRESH_TOKEN
    assert _me(strict_api, rotated["access_token"]).status_code == 401


def test_logout_without_a_token_is_401(api: LocalApi) -> None:
    response = api.request("POST", "/api/logout")

    _assert_answer(response, 401, NOT_AUTHENTICATED)


# Password change ---------------------------------------------------------------------------


def _change_password(server: LocalApi, access_token: str, current: str, new: str) -> requests.Response:
    body = {"current_password": current, "new_password": new}
    return server.request("POST", "/api/me/password", json=body, headers=bearer(access_token))


def test_password_change_with_a_wrong_current_password_is_400(strict_api: LocalApi) -> None:
    user, pair = _signed_up(strict_api)

    response = _change_password(strict_api, pair["access_token"], "not the password", NEW_PASSWORD)

    _assert_answer(response, 400, INCORRECT_PASSWORD)
    assert _login(strict_api, user["email"]).status_code == 200
    assert _me(strict_api, pair["access_token"]).status_code == 200


def test_password_change_to_the_same_password_is_400(strict_api: LocalApi) -> None:
    user, pair = _signed_up(strict_api)

    response = _change_password(strict_api, pair["access_token"], PASSWORD, PASSWORD)

    assert response.status_code == 400
    assert response.json() == {"detail": "The new password must differ from the current one"}
    assert _me(strict_api, pair["access_token"]).status_code == 200
    _assert_token_pair(_refresh(strict_api, pair["refresh_token"]))
    assert _login(strict_api, user["email"]).status_code == 200


def test_password_change_to_a_weak_password_is_422(strict_api: LocalApi) -> None:
    user, pair = _signed_up(strict_api)

    response = _change_password(strict_api, pair["access_token"], PASSWORD, "7 chars")

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [(e["loc"], e["type"]) for e in detail] == [(["body", "new_password"], "string_too_short")]
    assert "7 chars" not in response.text
    assert _login(strict_api, user["email"]).status_code == 200
    assert _me(strict_api, pair["access_token"]).status_code == 200


def test_password_change_returns_a_new_session_and_ends_every_earlier_one(strict_api: LocalApi) -> None:
    user, pair = _signed_up(strict_api)
    other = _assert_token_pair(_login(strict_api, user["email"]))

    response = _change_password(strict_api, pair["access_token"], PASSWORD, NEW_PASSWORD)

    new_pair = _assert_token_pair(response)
    assert _me(strict_api, new_pair["access_token"]).json() == user
    for earlier in (pair, other):
        _assert_answer(_me(strict_api, earlier["access_token"]), 401, NOT_AUTHENTICATED)
        _assert_answer(_refresh(strict_api, earlier["refresh_token"]), 401, INVALID_REFRESH_TOKEN)
    _assert_answer(_login(strict_api, user["email"]), 401, INVALID_CREDENTIALS)
    _assert_token_pair(_login(strict_api, user["email"], NEW_PASSWORD))
    _assert_token_pair(_refresh(strict_api, new_pair["refresh_token"]))


def test_concurrent_password_changes_give_one_new_session_and_one_400(api: LocalApi) -> None:
    # The authorizer's Allow is cached first, so both changes reach the function. One invocation runs
    # at a time locally: the second finds the current password already replaced.
    user, pair = _signed_up(api)
    headers = bearer(pair["access_token"])
    assert api.request("GET", "/api/me", headers=headers).status_code == 200
    new_passwords = iter([NEW_PASSWORD, "staple battery horse"])
    lock = threading.Lock()

    def change(session: requests.Session) -> requests.Response:
        with lock:
            body = {"current_password": PASSWORD, "new_password": next(new_passwords)}
        return session.post(api.url("/api/me/password"), json=body, headers=headers, timeout=30)

    responses = _at_once(2, change)

    assert sorted(r.status_code for r in responses) == [200, 400]
    new_pair = _assert_token_pair(next(r for r in responses if r.status_code == 200))
    assert next(r for r in responses if r.status_code == 400).json() == INCORRECT_PASSWORD
    assert _me(api, new_pair["access_token"]).json() == user
    logins = [_login(api, user["email"], p).status_code for p in (NEW_PASSWORD, "staple battery horse", PASSWORD)]
    assert sorted(logins) == [200, 401, 401]


# PATCH /api/me -----------------------------------------------------------------------------


def test_patch_me_changes_the_username(api: LocalApi) -> None:
    user, pair = _signed_up(api, username="ada")

    response = api.request("PATCH", "/api/me", json={"username": "ada lovelace"}, headers=bearer(pair["access_token"]))

    assert response.status_code == 200
    assert response.json() == {**user, "username": "ada lovelace"}
    assert _me(api, pair["access_token"]).json() == {**user, "username": "ada lovelace"}


@pytest.mark.parametrize(
    "field, value",
    [
        ("email", "someone-else@example.com"),
        ("password", "a brand new password"),
        ("is_active", False),
        ("id", "00000000-0000-0000-0000-000000000000"),
        ("hashed_password", "$2b$04$" + "a" * 53),
    ],
)
def test_patch_me_with_any_other_field_is_422_and_changes_nothing(api: LocalApi, field: str, value: Any) -> None:
    user, pair = _signed_up(api, username="ada")

    response = api.request(
        "PATCH", "/api/me", json={"username": "mallory", field: value}, headers=bearer(pair["access_token"])
    )

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [(e["loc"], e["type"]) for e in detail] == [(["body", field], "extra_forbidden")]
    assert _me(api, pair["access_token"]).json() == user
    assert _login(api, user["email"]).status_code == 200


# Account deletion --------------------------------------------------------------------------


def _delete_me(server: LocalApi, access_token: str, password: str) -> requests.Response:
    return server.request("DELETE", "/api/me", json={"password": password}, headers=bearer(access_token))


def test_account_deletion_with_a_wrong_password_is_400_and_deletes_nothing(strict_api: LocalApi) -> None:
    user, pair = _signed_up(strict_api)
    auth = bearer(pair["access_token"])
    prompt = strict_api.request("POST", "/api/prompts", json={"content": "keep me"}, headers=auth).json()

    response = _delete_me(strict_api, pair["access_token"], "not the password")

    _assert_answer(response, 400, INCORRECT_PASSWORD)
    assert _me(strict_api, pair["access_token"]).json() == user
    assert strict_api.request("GET", f"/api/prompts/{prompt['id']}", headers=auth).json() == prompt
    assert _login(strict_api, user["email"]).status_code == 200


def test_account_deletion_removes_the_user_their_prompts_and_their_sessions(strict_api: LocalApi) -> None:
    user, pair = _signed_up(strict_api)
    auth = bearer(pair["access_token"])
    for content in ("first", "second"):
        assert strict_api.request("POST", "/api/prompts", json={"content": content}, headers=auth).status_code == 201

    response = _delete_me(strict_api, pair["access_token"], PASSWORD)

    assert response.status_code == 204
    assert response.content == b""
    _assert_answer(_me(strict_api, pair["access_token"]), 401, NOT_AUTHENTICATED)
    _assert_answer(_refresh(strict_api, pair["refresh_token"]), 401, INVALID_REFRESH_TOKEN)
    _assert_answer(_login(strict_api, user["email"]), 401, INVALID_CREDENTIALS)
    again = register(strict_api, user["email"])
    assert again.status_code == 201
    assert again.json()["id"] != user["id"]
    new_pair = _assert_token_pair(_login(strict_api, user["email"]))
    prompts = strict_api.request("GET", "/api/prompts", headers=bearer(new_pair["access_token"]))
    assert prompts.status_code == 200
    assert prompts.json()["items"] == []


def test_account_deletion_leaves_no_document_of_the_user_even_one_written_in_the_cache_window(
    tmp_path: Path, start_api: StartApi
) -> None:
    # The API cannot show leftovers (they belong to no user); the embedded store's file can. The
    # server keeps the default authorizer cache, so the deleted account's token still passes it.
    data_dir = tmp_path / "data"
    server = start_api("--data-dir", str(data_dir), env={"JWT_SECRET": JWT_SECRET})
    user, pair = _signed_up(server)
    _assert_token_pair(_login(server, user["email"]))  # a second session
    auth = bearer(pair["access_token"])
    assert server.request("POST", "/api/prompts", json={"content": "mine"}, headers=auth).status_code == 201
    before = (data_dir / "store.json").read_text(encoding="utf-8")

    response = _delete_me(server, pair["access_token"], PASSWORD)
    late = server.request("POST", "/api/prompts", json={"content": "written after"}, headers=auth)

    assert response.status_code == 204
    assert late.status_code == 401
    assert server.last_request_line()["note"] == "JwtAuthorizer: cached"
    after = (data_dir / "store.json").read_text(encoding="utf-8")
    assert before.count(user["id"]) >= 4  # the user, two sessions and a prompt were stored under the id
    assert user["id"] not in after
    assert "written after" not in after


# Login throttling --------------------------------------------------------------------------


def _retry_after(response: requests.Response) -> int:
    value = response.headers["Retry-After"]
    assert value.isdigit(), value
    return int(value)


@pytest.mark.parametrize("known", [True, False], ids=["known-email", "unknown-email"])
def test_failed_logins_past_the_limit_are_429_with_retry_after(strict_api: LocalApi, known: bool) -> None:
    email = _signed_up(strict_api)[0]["email"] if known else unique_email()

    failures = [_login(strict_api, email, "wrong password") for _ in range(MAX_FAILURES)]
    throttled = _login(strict_api, email, "wrong password")
    right_password = _login(strict_api, email)

    assert [r.status_code for r in failures] == [401] * MAX_FAILURES
    assert all(r.json() == INVALID_CREDENTIALS for r in failures)
    for response in (throttled, right_password):
        _assert_answer(response, 429, TOO_MANY_LOGINS)
        assert 0 < _retry_after(response) <= WINDOW_MINUTES * 60


def test_failed_logins_count_an_email_in_any_letter_case_as_one(strict_api: LocalApi) -> None:
    email = unique_email()
    variants = [email.upper(), email.title(), email]

    failures = [_login(strict_api, variant, "wrong password").status_code for variant in variants]
    throttled = _login(strict_api, email.upper(), "wrong password")

    assert failures == [401] * MAX_FAILURES
    _assert_answer(throttled, 429, TOO_MANY_LOGINS)


def test_a_successful_login_clears_the_failure_count(strict_api: LocalApi) -> None:
    user, _ = _signed_up(strict_api)
    email = user["email"]

    before = [_login(strict_api, email, "wrong password").status_code for _ in range(MAX_FAILURES - 1)]
    success = _login(strict_api, email)
    after = [_login(strict_api, email, "wrong password").status_code for _ in range(MAX_FAILURES)]
    next_one = _login(strict_api, email, "wrong password")

    assert before == [401] * (MAX_FAILURES - 1)
    _assert_token_pair(success)
    assert after == [401] * MAX_FAILURES
    assert next_one.status_code == 429


def test_concurrent_wrong_logins_get_at_most_the_limit_of_401s(strict_api: LocalApi) -> None:
    user, _ = _signed_up(strict_api)
    body = {"email": user["email"], "password": "wrong password"}

    responses = _at_once(10, lambda s: s.post(strict_api.url("/api/login"), json=body, timeout=30))

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {401, 429}
    assert statuses.count(401) <= MAX_FAILURES
    assert statuses.count(429) >= 10 - MAX_FAILURES
    assert all(r.json() == TOO_MANY_LOGINS for r in responses if r.status_code == 429)


def test_browsers_may_read_retry_after(strict_api: LocalApi) -> None:
    email = unique_email()
    for _ in range(MAX_FAILURES):
        _login(strict_api, email, "wrong password")

    response = strict_api.request(
        "POST",
        "/api/login",
        json={"email": email, "password": "wrong password"},
        headers={"Origin": "http://localhost:5173"},
    )

    assert response.status_code == 429
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    exposed = {h.strip().lower() for h in response.headers.get("Access-Control-Expose-Headers", "").split(",")}
    assert "retry-after" in exposed


def test_cache_control_of_a_token_response_is_readable_by_browsers(api: LocalApi) -> None:
    # Cache-Control is a CORS-safelisted response header, so it needs no Access-Control-Expose-Headers.
    email = unique_email()
    register(api, email)

    response = api.request(
        "POST",
        "/api/login",
        json={"email": email, "password": PASSWORD},
        headers={"Origin": "http://localhost:5173"},
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "no-store"


# Hostile bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, authenticated",
    [("POST", "/api/login", False), ("POST", "/api/token/refresh", False), ("PATCH", "/api/me", True)],
)
def test_deeply_nested_json_body_is_422_on_account_routes(
    api: LocalApi, method: str, path: str, authenticated: bool
) -> None:
    headers = {"Content-Type": "application/json"}
    if authenticated:
        headers.update(bearer(_signed_up(api)[1]["access_token"]))

    response = api.request(method, path, data="[" * 100_000 + "]" * 100_000, headers=headers)

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    assert detail[0]["type"] == "json_invalid"


# Logs --------------------------------------------------------------------------------------


def test_debug_logs_never_contain_passwords(start_api: StartApi) -> None:
    server = start_api(
        "--in-memory",
        env={"JWT_SECRET": JWT_SECRET, "POWERTOOLS_DEBUG": "1", "POWERTOOLS_LOG_LEVEL": "DEBUG"},
    )
    first, wrong, second = "Zq8-first-pass-word-3141", "Zq8-wrong-pass-word-2718", "Zq8-second-pass-word-1618"
    email = unique_email()
    body = {"email": email, "username": "ada", "password": first}

    assert server.request("POST", "/api/register", json=body).status_code == 201
    assert _login(server, email, wrong).status_code == 401
    pair = _assert_token_pair(_login(server, email, first))
    assert _change_password(server, pair["access_token"], wrong, second).status_code == 400
    new_pair = _assert_token_pair(_change_password(server, pair["access_token"], first, second))
    refreshed = _assert_token_pair(_refresh(server, new_pair["refresh_token"]))
    assert _delete_me(server, refreshed["access_token"], wrong).status_code == 400
    assert _delete_me(server, refreshed["access_token"], second).status_code == 204

    output = server.output()
    # Debug logging is on and shows each handler's parsed body: the place a password would leak.
    assert f"Calling API Route Handler: {{'user': UserCreate(email='{email}'" in output
    assert "Calling API Route Handler: {'change': PasswordChange(" in output
    for secret in (first, wrong, second, pair["refresh_token"], new_pair["refresh_token"]):
        assert secret not in output
