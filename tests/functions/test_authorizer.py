from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from shared.db import get_database
from shared.security import create_access_token
from tests.support import TEST_JWT_SECRET, authorize, load_event, login, register


def _token(subject: str, *, secret: str = TEST_JWT_SECRET, **claims_changes: object) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": "prompt-api",
        "aud": "prompt-api",
        **claims_changes,
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")


def _refused(token: str | None = None, *, header: str | None = None) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(token, header=header)


def test_authorizer_allows_the_whole_api_with_user_in_context() -> None:
    user = register()

    policy = authorize(login())

    assert policy["principalId"] == user["id"]
    assert policy["context"] == {"user_id": user["id"], "email": user["email"], "username": user["username"]}
    (statement,) = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"
    stage_arn = "/".join(load_event("authorizer")["methodArn"].split("/")[:2])  # arn:...:{api id}/{stage}
    assert statement["Resource"] == [f"{stage_arn}/*/*"]


def test_authorizer_fixture_placeholder_token_is_refused() -> None:
    assert load_event("authorizer")["authorizationToken"] == "Bearer <token>"
    _refused(header=load_event("authorizer")["authorizationToken"])


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "bearer"])
def test_authorizer_refuses_missing_or_malformed_header(header: str) -> None:
    register()
    _refused(header=header)


def test_authorizer_refuses_expired_token() -> None:
    user = register()
    past = datetime.now(UTC) - timedelta(hours=2)
    _refused(_token(user["id"], iat=past, exp=past + timedelta(minutes=60)))


def test_authorizer_refuses_token_signed_with_another_secret() -> None:
    user = register()
    _refused(_token(user["id"], secret="another-secret-that-is-also-long-enough-123"))


def test_authorizer_refuses_alg_none_token() -> None:
    user = register()
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": user["id"], "iat": now, "exp": now + 300, "iss": "prompt-api", "aud": "prompt-api"}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    _refused(f"{header.decode()}.{payload.decode()}.")


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "aud"])
def test_authorizer_refuses_token_missing_a_required_claim(missing: str) -> None:
    user = register()
    _refused(_token(user["id"], **{missing: None}))


@pytest.mark.parametrize(("claim", "value"), [("aud", "another-api"), ("iss", "someone-else")])
def test_authorizer_refuses_token_for_another_audience_or_issuer(claim: str, value: str) -> None:
    user = register()
    _refused(_token(user["id"], **{claim: value}))


def test_authorizer_refuses_token_of_a_deleted_user() -> None:
    user = register()
    token = login()
    get_database().users.delete_one({"_id": user["id"]})

    _refused(token)


def test_authorizer_refuses_token_of_an_inactive_user() -> None:
    user = register()
    token = login()
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"is_active": False}})

    _refused(token)


def test_authorizer_accepts_token_made_by_shared_security() -> None:
    user = register()
    token = create_access_token(
        subject=user["id"], secret=TEST_JWT_SECRET, issuer="prompt-api", audience="prompt-api", expires_minutes=1
    )

    assert authorize(token)["principalId"] == user["id"]
