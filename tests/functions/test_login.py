from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime, timedelta

import bcrypt
import jwt
import pytest

from shared import config
from shared.data.client import get_database
from tests.support import PASSWORD, TEST_JWT_SECRET, invoke, load_event, register

FIXTURE_ADDRESS = "203.0.113.10"  # the fixture's requestContext.identity.sourceIp
ADDRESS_KEY = f"ada@example.com {FIXTURE_ADDRESS}"


def test_login_fixture_returns_bearer_token_for_the_user() -> None:
    user = register()

    result = invoke("login", load_event("login"))

    assert result.status == 200
    assert set(result.body) == {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
    assert result.body["token_type"] == "bearer"
    assert result.body["expires_in"] == 3600
    assert result.body["refresh_expires_in"] == 30 * 24 * 3600
    assert result.headers["Cache-Control"] == "no-store"
    assert result.headers["Pragma"] == "no-cache"
    claims = jwt.decode(
        result.body["access_token"], TEST_JWT_SECRET, algorithms=["HS256"], audience="prompt-api", issuer="prompt-api"
    )
    assert claims["sub"] == user["id"]
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(result.body["access_token"])["alg"] == "HS256"
    session = get_database().sessions.find_one({"_id": claims["sid"]})
    assert session is not None
    assert session["user_id"] == user["id"]
    assert session["ended_at"] is None
    assert session["refresh_hash"] == hashlib.sha256(result.body["refresh_token"].encode()).hexdigest()
    assert session["spent_hashes"] == []
    assert session["expires_at"] - session["created_at"] == timedelta(days=30)


def test_login_email_is_case_insensitive() -> None:
    register("ada@example.com")

    result = invoke("login", body={"email": "ADA@Example.COM", "password": PASSWORD})

    assert result.status == 200


def test_login_token_lifetime_follows_jwt_expire_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_EXPIRE_MINUTES", "5")
    register()

    result = invoke("login", body={"email": "ada@example.com", "password": PASSWORD})

    assert result.body["expires_in"] == 300


def test_login_unknown_email_and_wrong_password_get_the_same_401() -> None:
    register()

    unknown = invoke("login", body={"email": "nobody@example.com", "password": PASSWORD})
    wrong = invoke("login", body={"email": "ada@example.com", "password": "wrong password"})

    assert unknown.status == wrong.status == 401
    assert unknown.body == wrong.body == {"detail": "Incorrect email or password"}
    assert unknown.headers["WWW-Authenticate"] == "Bearer"


def test_login_password_over_72_bytes_is_401_not_500() -> None:
    register()

    result = invoke("login", body={"email": "ada@example.com", "password": "é" * 100})

    assert result.status == 401
    assert result.body == {"detail": "Incorrect email or password"}


def test_login_inactive_user_returns_403() -> None:
    user = register()
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"is_active": False}})

    result = invoke("login", body={"email": "ada@example.com", "password": PASSWORD})

    assert result.status == 403
    assert result.body == {"detail": "Inactive user"}


def test_login_inactive_user_with_wrong_password_is_still_401() -> None:
    user = register()
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"is_active": False}})

    result = invoke("login", body={"email": "ada@example.com", "password": "wrong password"})

    assert result.status == 401


@pytest.mark.parametrize(
    "body",
    [
        {"email": "ada@example.com", "password": {"$ne": None}},
        {"email": {"$ne": None}, "password": PASSWORD},
        {"email": "ada@example.com", "password": PASSWORD, "extra": 1},
        {"email": "ada@example.com"},
    ],
)
def test_login_operator_objects_unknown_and_missing_fields_return_422(body: dict) -> None:
    register()

    result = invoke("login", body=body)

    assert result.status == 422
    assert result.body["detail"][0]["loc"][0] == "body"


def _login(email: str = "ada@example.com", password: str = PASSWORD, *, source_ip: str | None = None):
    return invoke("login", body={"email": email, "password": password}, source_ip=source_ip)


def _fail(times: int, email: str = "ada@example.com", *, source_ip: str | None = None) -> list[int]:
    return [_login(email, "wrong password", source_ip=source_ip).status for _ in range(times)]


def _count(key: str) -> int | None:
    stored = get_database().login_attempts.find_one({"_id": key})
    return None if stored is None else int(stored["count"])


def test_login_after_max_failures_is_429_the_same_for_known_and_unknown_emails() -> None:
    register()

    assert _fail(5) == [401] * 5
    assert _fail(5, "nobody@example.com") == [401] * 5
    window_end = datetime.now(UTC) + timedelta(minutes=10, milliseconds=500)
    get_database().login_attempts.update_many({}, {"$set": {"expires_at": window_end}})
    known = _login(password="wrong password")
    unknown = _login("nobody@example.com", "wrong password")

    assert known.status == unknown.status == 429
    assert known.body == unknown.body == {"detail": "Too many failed logins; try again later"}
    assert known.headers["Retry-After"] == unknown.headers["Retry-After"] == "601"


def test_login_throttle_window_is_login_window_minutes_from_the_first_failure() -> None:
    register()
    _fail(5)

    result = _login(password="wrong password")

    assert result.status == 429
    assert 899 <= int(result.headers["Retry-After"]) <= 900
    assert _count(ADDRESS_KEY) == 6
    assert _count("ada@example.com") == 5  # the refused attempt is not counted against the email


def test_login_with_the_right_password_while_throttled_is_429() -> None:
    register()
    _fail(5)

    result = _login()

    assert result.status == 429
    assert "access_token" not in result.body
    assert get_database().sessions.count_documents({}) == 0


def test_login_throttle_counts_the_normalised_email() -> None:
    register()
    _fail(3, "ADA@example.com")
    _fail(2, "ada@EXAMPLE.com")

    assert _login().status == 429


def test_successful_login_clears_the_failure_count() -> None:
    register()
    _fail(4)

    assert _login().status == 200

    assert _count(ADDRESS_KEY) is None
    assert _count("ada@example.com") == 4  # the failures still count against the email, the success not
    assert _fail(5) == [401] * 5
    assert _login().status == 429


def test_inactive_login_with_the_right_password_clears_the_count_too() -> None:
    user = register()
    _fail(4)
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"is_active": False}})

    assert _login().status == 403

    assert _count(ADDRESS_KEY) is None


def test_login_after_the_window_passes_is_allowed_again() -> None:
    register()
    _fail(6)
    # The window is over; the TTL monitor has not removed the document yet.
    past = datetime.now(UTC) - timedelta(seconds=1)
    get_database().login_attempts.update_many({}, {"$set": {"expires_at": past}})

    assert _login(password="wrong password").status == 401
    stored = get_database().login_attempts.find_one({"_id": ADDRESS_KEY})
    assert stored["count"] == 1
    assert stored["expires_at"] > datetime.now(UTC) + timedelta(minutes=14)
    assert _login().status == 200


def test_login_throttle_follows_login_max_failures_and_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    monkeypatch.setenv("LOGIN_WINDOW_MINUTES", "1")
    register()

    assert _fail(3) == [401, 401, 429]
    assert 59 <= int(_login().headers["Retry-After"]) <= 60


def test_login_rehashes_a_password_stored_at_another_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    user = register()
    assert get_database().users.find_one({"_id": user["id"]})["hashed_password"].startswith("$2b$04$")
    monkeypatch.setenv("BCRYPT_ROUNDS", "5")
    config.clear_caches()

    assert _login().status == 200

    rehashed = get_database().users.find_one({"_id": user["id"]})["hashed_password"]
    assert rehashed.startswith("$2b$05$")
    assert bcrypt.checkpw(PASSWORD.encode(), rehashed.encode())
    assert _login().status == 200
    assert get_database().users.find_one({"_id": user["id"]})["hashed_password"] == rehashed


def test_login_keeps_a_hash_stored_at_the_configured_cost() -> None:
    user = register()
    before = get_database().users.find_one({"_id": user["id"]})["hashed_password"]

    assert _login().status == 200

    assert get_database().users.find_one({"_id": user["id"]})["hashed_password"] == before


def test_failed_login_does_not_rehash(monkeypatch: pytest.MonkeyPatch) -> None:
    user = register()
    before = get_database().users.find_one({"_id": user["id"]})["hashed_password"]
    monkeypatch.setenv("BCRYPT_ROUNDS", "5")
    config.clear_caches()

    assert _login(password="wrong password").status == 401

    assert get_database().users.find_one({"_id": user["id"]})["hashed_password"] == before


def test_each_login_starts_its_own_session() -> None:
    user = register()

    first, second = _login().body, _login().body

    sessions = list(get_database().sessions.find({"user_id": user["id"]}))
    assert len(sessions) == 2
    assert first["refresh_token"] != second["refresh_token"]


def test_failures_from_one_address_do_not_throttle_the_owner_elsewhere() -> None:
    register()

    assert _fail(6, source_ip="198.51.100.66") == [401] * 5 + [429]

    assert _login(password="wrong password").status == 401
    assert _login().status == 200
    assert _login(source_ip="198.51.100.66").status == 429


def test_failures_from_many_addresses_throttle_the_email_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_EMAIL", "6")
    register()

    statuses = [s for n in range(3) for s in _fail(2, source_ip=f"198.51.100.{n}")]
    throttled = _login(source_ip="192.0.2.1")  # a fresh address, the right password

    assert statuses == [401] * 6
    assert throttled.status == 429
    assert 899 <= int(throttled.headers["Retry-After"]) <= 900
    assert _login("nobody@example.com").status == 401  # other emails are not affected


def test_a_password_registered_in_nfc_logs_in_when_sent_in_nfd() -> None:
    nfc = "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e"
    nfd = unicodedata.normalize("NFD", nfc)
    register(password=nfc)

    assert nfd != nfc
    assert _login(password=nfd).status == 200
    assert _login(password=nfc).status == 200
    assert _login(password="cafe creme brulee").status == 401


def test_a_hash_made_before_normalisation_is_accepted_and_rehashed_from_the_normal_form() -> None:
    nfd = unicodedata.normalize("NFD", "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e")
    user = register()
    legacy = bcrypt.hashpw(nfd.encode(), bcrypt.gensalt(rounds=4)).decode()  # as the old code stored it
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"hashed_password": legacy}})

    assert _login(password=nfd).status == 200

    rehashed = get_database().users.find_one({"_id": user["id"]})["hashed_password"]
    assert rehashed != legacy
    assert bcrypt.checkpw(unicodedata.normalize("NFKC", nfd).encode(), rehashed.encode())
    assert _login(password=unicodedata.normalize("NFC", nfd)).status == 200
