from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bcrypt
import pytest

from shared.data.client import get_database
from tests.support import PASSWORD, api_event, invoke, load_event


def test_register_fixture_creates_user_with_lower_cased_email() -> None:
    result = invoke("register", load_event("register"))

    assert result.status == 201
    assert set(result.body) == {"id", "email", "username", "created_at", "is_active"}
    assert result.body["email"] == "ada@example.com"
    assert result.body["username"] == "ada"
    assert result.body["is_active"] is True
    assert result.body["created_at"].endswith("Z")
    stored = get_database().users.find_one({"_id": result.body["id"]})
    assert stored is not None
    assert stored["email"] == "ada@example.com"
    assert stored["hashed_password"] != PASSWORD
    assert bcrypt.checkpw(PASSWORD.encode(), stored["hashed_password"].encode())


@pytest.mark.parametrize("second", ["ada@example.com", "ADA@EXAMPLE.COM", "Ada@example.Com"])
def test_register_duplicate_email_in_any_case_returns_409(second: str) -> None:
    assert invoke("register", body={"email": "Ada@Example.com", "username": "a", "password": PASSWORD}).status == 201

    result = invoke("register", body={"email": second, "username": "b", "password": PASSWORD})

    assert result.status == 409
    assert result.body == {"detail": "Email already registered"}
    assert get_database().users.count_documents({}) == 1


def test_register_retried_with_the_same_body_answers_the_account_it_created() -> None:
    body = {"email": "ada@example.com", "username": "ada", "password": PASSWORD}
    first = invoke("register", body=body)

    again = invoke("register", body=body)

    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    assert get_database().users.count_documents({}) == 1


@pytest.mark.parametrize("change", [{"username": "someone"}, {"password": "another password"}])
def test_register_with_a_taken_email_and_another_username_or_password_returns_409(change: dict) -> None:
    body = {"email": "ada@example.com", "username": "ada", "password": PASSWORD}
    invoke("register", body=body)

    assert invoke("register", body={**body, **change}).status == 409


def test_register_retried_after_its_window_returns_409() -> None:
    body = {"email": "ada@example.com", "username": "ada", "password": PASSWORD}
    invoke("register", body=body)
    get_database().users.update_one({}, {"$set": {"created_at": datetime.now(UTC) - timedelta(hours=25)}})

    assert invoke("register", body=body).status == 409


def test_register_password_over_72_utf8_bytes_returns_422_and_stores_nothing() -> None:
    password = "é" * 37  # 37 characters, 74 bytes

    result = invoke("register", body={"email": "ada@example.com", "username": "ada", "password": password})

    assert result.status == 422
    assert result.body["detail"][0]["loc"] == ["body", "password"]
    assert "72 bytes" in result.body["detail"][0]["msg"]
    assert password not in result.raw_body
    assert get_database().users.count_documents({}) == 0


def test_register_password_that_nfkc_makes_longer_than_72_bytes_returns_422() -> None:
    password = "\ufdfa" * 3 + "aaaaa"  # 14 bytes as sent, 104 once normalised (NFKC), as it is hashed

    result = invoke("register", body={"email": "ada@example.com", "username": "ada", "password": password})

    assert result.status == 422
    assert "72 bytes" in result.body["detail"][0]["msg"]
    assert get_database().users.count_documents({}) == 0


def test_register_password_of_exactly_72_bytes_is_accepted() -> None:
    result = invoke("register", body={"email": "ada@example.com", "username": "ada", "password": "é" * 36})

    assert result.status == 201


@pytest.mark.parametrize(
    ("body", "loc", "error_type"),
    [
        ({"email": {"$ne": None}, "username": "ada", "password": PASSWORD}, ["body", "email"], "string_type"),
        (
            {"email": "ada@example.com", "username": {"$gt": ""}, "password": PASSWORD},
            ["body", "username"],
            "string_type",
        ),
        (
            {"email": "ada@example.com", "username": "ada", "password": PASSWORD, "id": "x"},
            ["body", "id"],
            "extra_forbidden",
        ),
        (
            {"email": "ada@example.com", "username": "ada", "password": PASSWORD, "is_active": False},
            ["body", "is_active"],
            "extra_forbidden",
        ),
        ({"email": "not-an-email", "username": "ada", "password": PASSWORD}, ["body", "email"], "value_error"),
        (
            {"email": "ada@example.com", "username": "ada", "password": "short"},
            ["body", "password"],
            "string_too_short",
        ),
        ({"email": "ada@example.com", "password": PASSWORD}, ["body", "username"], "missing"),
    ],
)
def test_register_invalid_body_returns_422_with_fastapi_shape(body: dict, loc: list, error_type: str) -> None:
    result = invoke("register", body=body)

    assert result.status == 422
    assert [(e["loc"], e["type"]) for e in result.body["detail"]] == [(loc, error_type)]
    assert set(result.body["detail"][0]) == {"loc", "msg", "type"}
    assert get_database().users.count_documents({}) == 0


@pytest.mark.parametrize("raw", ["{not json", "", "[]", "null"])
def test_register_malformed_or_non_object_body_returns_422(raw: str) -> None:
    result = invoke("register", api_event("register", raw_body=raw))

    assert result.status == 422
    assert isinstance(result.body["detail"], list)
    assert result.body["detail"][0]["loc"][0] == "body"


def test_register_by_default_lets_any_origin_read_its_answer() -> None:
    result = invoke("register", api_event("register", headers={"Origin": "https://anywhere.example"}))

    assert (result.status, result.headers["Access-Control-Allow-Origin"]) == (201, "*")


def test_register_sends_cors_headers_to_an_allowed_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://app.example.com")
    event = api_event("register", headers={"Origin": "https://app.example.com"})

    result = invoke("register", event)

    assert result.status == 201
    assert result.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_register_non_json_body_returns_415_without_echoing_it(content_type: str) -> None:
    result = invoke("register", api_event("register", headers={"Content-Type": content_type}))

    assert result.status == 415
    assert result.body == {"detail": "Content-Type must be application/json"}
    assert get_database().users.count_documents({}) == 0


def test_register_json_with_charset_is_accepted() -> None:
    result = invoke("register", api_event("register", headers={"Content-Type": "application/json; charset=utf-8"}))

    assert result.status == 201


# A registration retried is a password check of the account (its replay answers 201 for the right
# password): it counts against the same limits as a login.

BODY = {"email": "ada@example.com", "username": "ada", "password": PASSWORD}
TOO_MANY = {"detail": "Too many wrong passwords; try again later"}


def _register(source_ip: str | None = None, **change: str):
    return invoke("register", body={**BODY, **change}, source_ip=source_ip)


def _login(password: str = PASSWORD, *, source_ip: str | None = None) -> int:
    return invoke("login", body={"email": BODY["email"], "password": password}, source_ip=source_ip).status


def test_register_retried_while_logins_of_the_email_are_throttled_from_this_address_is_429() -> None:
    assert _register().status == 201
    assert [_login("wrong password") for _ in range(6)] == [401] * 5 + [429]

    right, wrong = _register(), _register(password="another password")

    assert (right.status, right.body, wrong.status, wrong.body) == (429, TOO_MANY, 429, TOO_MANY)
    assert 899 <= int(right.headers["Retry-After"]) <= 900
    assert _register(source_ip="198.51.100.7").status == 201  # another address: its own budget


def test_wrong_passwords_at_register_count_like_failed_logins() -> None:
    assert _register().status == 201

    statuses = [_register(password=f"guess number {n}").status for n in range(5)]

    assert statuses == [409] * 5
    throttled = _register()  # the right password, too late
    assert (throttled.status, throttled.body) == (429, TOO_MANY)
    assert 899 <= int(throttled.headers["Retry-After"]) <= 900
    assert _login() == 429  # one budget with the logins
    assert _login(source_ip="198.51.100.7") == 200


def test_wrong_passwords_at_register_from_many_addresses_throttle_the_email_everywhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_EMAIL", "4")
    assert _register().status == 201

    statuses = [_register(f"198.51.100.{n}", password="wrong password").status for n in range(4)]

    assert statuses == [409] * 4
    assert _register("192.0.2.1").status == 429
    assert _login(source_ip="192.0.2.2") == 429


def test_register_replayed_with_the_right_password_proves_it_as_a_login_does() -> None:
    assert _register().status == 201
    assert [_login("wrong password") for _ in range(4)] == [401] * 4

    assert _register().status == 201

    assert [_login("wrong password") for _ in range(5)] == [401] * 5  # the address's count was cleared
    overall = get_database().login_attempts.find_one({"_id": BODY["email"]})
    assert overall is not None and overall["count"] == 9  # the replay took its own attempt back, not the others


def test_register_retried_for_a_deactivated_account_returns_409() -> None:
    assert _register().status == 201
    get_database().users.update_one({"email": BODY["email"]}, {"$set": {"is_active": False}})

    again = _register()

    assert (again.status, again.body) == (409, {"detail": "Email already registered"})


def test_register_retried_for_an_account_being_deleted_returns_409() -> None:
    assert _register().status == 201
    tombstone = {"is_active": False, "deleted_at": datetime.now(UTC), "deleting_session": "s"}
    get_database().users.update_one({"email": BODY["email"]}, {"$set": tombstone})

    again = _register()

    assert (again.status, again.body) == (409, {"detail": "Email already registered"})


def _not_eligible(case: str) -> dict[str, str]:
    """Make the stored account, or the request, one the replay does not answer; the request's changes."""
    users = get_database().users
    if case == "old":
        users.update_one({}, {"$set": {"created_at": datetime.now(UTC) - timedelta(hours=25)}})
    elif case == "inactive":
        users.update_one({}, {"$set": {"is_active": False}})
    elif case == "deleting":
        users.update_one({}, {"$set": {"is_active": False, "deleted_at": datetime.now(UTC)}})
    changes = {"username": {"username": "someone else"}, "password": {"password": "wrong password"}}
    return changes.get(case, {})


@pytest.mark.parametrize("case", ["password", "username", "old", "inactive", "deleting"])
def test_every_409_for_a_taken_email_spends_the_guard_and_one_bcrypt_check(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _register().status == 201
    change = _not_eligible(case)
    checks: list[bytes] = []
    checkpw = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda password, hashed: checks.append(hashed) or checkpw(password, hashed))

    result = _register(**change)

    assert (result.status, result.body) == (409, {"detail": "Email already registered"})
    assert len(checks) == 1
    counts = {d["_id"]: d["count"] for d in get_database().login_attempts.find()}
    assert counts == {"ada@example.com": 1, "ada@example.com 203.0.113.10": 1}
