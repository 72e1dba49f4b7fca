from __future__ import annotations

import hashlib
from datetime import timedelta

import jwt
import pytest

from shared.db import get_database
from tests.support import PASSWORD, TEST_JWT_SECRET, invoke, load_event, register


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
