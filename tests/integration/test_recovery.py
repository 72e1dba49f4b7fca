"""Password recovery over HTTP on the local API, with its mail stand-in: the mail is read from the data
directory, its link followed, and the new password logs in. And the password checks of signed-in
callers, throttled like logins."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.integration.helpers import JWT_SECRET, PASSWORD, LocalApi, bearer, register, running, unique_email

NEW_PASSWORD = "battery staple horse"
_LINK = re.compile(r"(\S+)\?token=([A-Za-z0-9_-]{43})\n")
TEMPLATE_RESET_URL = "https://app.example.com/reset-password"  # the PasswordResetUrl parameter's default


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("recovery-data")


@pytest.fixture(scope="module")
def recovery_api(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    """The API on its own data directory, no authorizer cache, 3 failed password checks allowed."""
    log = tmp_path_factory.mktemp("local-api-recovery") / "output.log"
    env = {"JWT_SECRET": JWT_SECRET, "LOGIN_MAX_FAILURES": "3"}
    with running(
        "--data-dir", str(data_dir), "--parameter-overrides", "AuthorizerCacheSeconds=0", env=env, log=log
    ) as server:
        yield server


def _mails_to(data_dir: Path, address: str) -> list[EmailMessage]:
    mails = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((data_dir / "mail").glob("*.eml"))
    ]
    return [m for m in mails if isinstance(m, EmailMessage) and m["To"] == address]


def _login(server: LocalApi, address: str, password: str):
    return server.request("POST", "/api/login", json={"email": address, "password": password})


def test_recovery_end_to_end_with_the_mail_stand_in(recovery_api: LocalApi, data_dir: Path) -> None:
    address = unique_email()
    assert register(recovery_api, address).status_code == 201
    old_session = _login(recovery_api, address, PASSWORD).json()

    asked = recovery_api.request("POST", "/api/password/forgot", json={"email": address})

    assert asked.status_code == 202
    assert asked.content == b""
    (mail,) = _mails_to(data_dir, address)
    assert mail["Subject"] == "Reset your Prompt API password"
    body = mail.get_content()
    page, token = _LINK.search(body).groups()  # type: ignore[union-attr]
    assert page == TEMPLATE_RESET_URL
    assert token in recovery_api.output()  # the terminal shows each mail
    raw = [p.read_text(encoding="utf-8") for p in (data_dir / "mail").glob("*.eml")]
    assert [r for r in raw if f"{page}?token={token}\n" in r]  # the file as written: a link one can copy
    reset = recovery_api.request("POST", "/api/password/reset", json={"token": token, "new_password": NEW_PASSWORD})
    assert reset.status_code == 204
    assert _login(recovery_api, address, PASSWORD).status_code == 401
    assert _login(recovery_api, address, NEW_PASSWORD).status_code == 200
    assert recovery_api.request("GET", "/api/me", headers=bearer(old_session["access_token"])).status_code == 401
    refreshed = recovery_api.request("POST", "/api/token/refresh", json={"refresh_token": old_session["refresh_token"]})
    assert refreshed.status_code == 401
    again = recovery_api.request("POST", "/api/password/reset", json={"token": token, "new_password": "a third one!"})
    assert again.status_code == 400
    assert again.json() == {"detail": "Invalid, expired or spent reset token"}


def test_an_unknown_email_gets_the_same_202_and_no_mail(recovery_api: LocalApi, data_dir: Path) -> None:
    address = unique_email()

    asked = recovery_api.request("POST", "/api/password/forgot", json={"email": address})

    assert asked.status_code == 202
    assert asked.content == b""
    assert _mails_to(data_dir, address) == []


def test_the_fourth_request_of_an_hour_is_429_with_retry_after(recovery_api: LocalApi) -> None:
    address = unique_email()

    statuses = [recovery_api.request("POST", "/api/password/forgot", json={"email": address}) for _ in range(4)]

    assert [r.status_code for r in statuses] == [202, 202, 202, 429]
    assert 3599 <= int(statuses[-1].headers["Retry-After"]) <= 3600


@pytest.mark.parametrize(
    ("method", "path", "field"), [("POST", "/api/me/password", "current_password"), ("DELETE", "/api/me", "password")]
)
def test_wrong_passwords_of_a_signed_in_caller_are_throttled_like_logins(
    recovery_api: LocalApi, method: str, path: str, field: str
) -> None:
    address = unique_email()
    assert register(recovery_api, address).status_code == 201
    token = _login(recovery_api, address, PASSWORD).json()["access_token"]

    def attempt(password: str) -> int:
        body = {field: password, **({"new_password": NEW_PASSWORD} if field == "current_password" else {})}
        return recovery_api.request(method, path, json=body, headers=bearer(token)).status_code

    statuses = [attempt("not the password") for _ in range(25)]

    assert statuses == [400] * 3 + [429] * 22
    assert attempt(PASSWORD) == 429
    assert _login(recovery_api, address, PASSWORD).status_code == 429  # one budget with the logins


def test_a_registration_retried_with_wrong_passwords_is_throttled_like_logins(recovery_api: LocalApi) -> None:
    address = unique_email()
    assert register(recovery_api, address).status_code == 201

    def attempt(password: str):
        body = {"email": address, "username": "ada", "password": password}
        return recovery_api.request("POST", "/api/register", json=body)

    statuses = [attempt("not the password").status_code for _ in range(3)]
    throttled = attempt(PASSWORD)  # the same request as the first, which would replay its 201

    assert statuses == [409] * 3
    assert throttled.status_code == 429
    assert throttled.json() == {"detail": "Too many wrong passwords; try again later"}
    assert 899 <= int(throttled.headers["Retry-After"]) <= 900
    assert _login(recovery_api, address, PASSWORD).status_code == 429  # one budget with the logins


def test_reset_requests_from_one_address_are_bounded_whatever_the_emails(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    log = tmp_path_factory.mktemp("local-api-reset-addresses") / "output.log"
    overrides = ("--in-memory", "--parameter-overrides", "PasswordResetMaxRequestsPerAddress=2")
    with running(*overrides, env={"JWT_SECRET": JWT_SECRET}, log=log) as server:
        known = unique_email()
        assert register(server, known).status_code == 201

        def ask(address: str) -> int:
            return server.request("POST", "/api/password/forgot", json={"email": address}).status_code

        admitted = [ask(unique_email()), ask(unique_email())]
        throttled = [server.request("POST", "/api/password/forgot", json={"email": e}) for e in (known, unique_email())]

    assert admitted == [202, 202]
    assert [r.status_code for r in throttled] == [429, 429]
    assert throttled[0].json() == throttled[1].json()
    assert throttled[0].json() == {"detail": "Too many password reset requests from this address; try again later"}
    assert 3599 <= int(throttled[0].headers["Retry-After"]) <= 3600
