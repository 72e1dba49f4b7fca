from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from shared.accounts import sessions
from shared.accounts.access_tokens import create_access_token, key_id
from shared.data.client import get_database
from shared.http.contract import CONTEXT_SESSION_ID, CONTEXT_USER_ID
from tests.support import TEST_JWT_SECRET, authorize, load_event, load_function, login, login_pair, register


def _session_of(token: str) -> str:
    sid: str = jwt.decode(token, options={"verify_signature": False})["sid"]
    return sid


def _token(subject: str, *, secret: str = TEST_JWT_SECRET, **claims_changes: object) -> str:
    """A token for ``subject`` in a live session of theirs (a fresh login's), with claims changed."""
    now = datetime.now(UTC)
    user = get_database().users.find_one({"_id": subject})
    sid = _session_of(login(user["email"])) if user else "no-session"
    claims = {
        "sub": subject,
        "sid": sid,
        "jti": "0" * 32,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": "prompt-api",
        "aud": "prompt-api",
        **claims_changes,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": key_id(secret)})


def _refused(token: str | None = None, *, header: str | None = None) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(token, header=header)


def test_authorizer_allows_the_whole_api_with_user_in_context() -> None:
    user = register()

    token = login()

    policy = authorize(token)

    assert policy["principalId"] == user["id"]
    assert policy["context"] == {CONTEXT_USER_ID: user["id"], CONTEXT_SESSION_ID: _session_of(token)}
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


def test_authorizer_accepts_a_token_built_here_for_a_live_session() -> None:
    user = register()

    assert authorize(_token(user["id"]))["principalId"] == user["id"]


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "aud", "sid", "jti"])
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


def test_authorizer_accepts_token_made_by_shared_tokens_for_a_live_session() -> None:
    user = register()
    token = create_access_token(
        subject=user["id"],
        session_id=_session_of(login()),
        secret=TEST_JWT_SECRET,
        issuer="prompt-api",
        audience="prompt-api",
        expires_minutes=1,
    )

    assert authorize(token)["principalId"] == user["id"]


def test_authorizer_refuses_token_of_an_unknown_session() -> None:
    user = register()
    _refused(_token(user["id"], sid="0b5f4c1e-8c1e-4a55-9e39-3f6f8f0b8a10"))


def test_authorizer_refuses_token_of_an_ended_session() -> None:
    register()
    token = login()
    get_database().sessions.update_one({"_id": _session_of(token)}, {"$set": {"ended_at": datetime.now(UTC)}})

    _refused(token)


def test_authorizer_refuses_token_of_an_expired_session() -> None:
    register()
    token = login()
    past = datetime.now(UTC) - timedelta(seconds=1)
    get_database().sessions.update_one({"_id": _session_of(token)}, {"$set": {"expires_at": past}})

    _refused(token)


def test_authorizer_refuses_token_naming_another_users_session() -> None:
    ada, bob = register("ada@example.com"), register("bob@example.com", username="bob")
    bobs_session = _session_of(login("bob@example.com"))

    _refused(_token(ada["id"], sid=bobs_session))
    assert authorize(_token(bob["id"], sid=bobs_session))["principalId"] == bob["id"]


def test_authorizer_refuses_session_created_before_the_users_sessions_valid_after() -> None:
    user = register()
    token = login()
    session = get_database().sessions.find_one({"_id": _session_of(token)})
    valid_after = session["created_at"] + timedelta(milliseconds=1)
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"sessions_valid_after": valid_after}})

    _refused(token)


def test_authorizer_accepts_session_created_at_the_users_sessions_valid_after() -> None:
    user = register()
    token = login()
    session = get_database().sessions.find_one({"_id": _session_of(token)})
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"sessions_valid_after": session["created_at"]}})

    assert authorize(token)["principalId"] == user["id"]


def test_authorizer_refuses_inactive_user_even_with_a_live_session() -> None:
    user = register()
    pair = login_pair()
    get_database().users.update_one({"_id": user["id"]}, {"$set": {"is_active": False}})

    assert get_database().sessions.find_one({"_id": _session_of(pair["access_token"])})["ended_at"] is None
    _refused(pair["access_token"])


class _RecordingDatabase:
    """A database whose collections note each operation called on them (``"sessions.aggregate"``)."""

    def __init__(self, database: Any, calls: list[str]) -> None:
        self._database, self._calls = database, calls

    def __getattr__(self, collection: str) -> Any:
        return _RecordingCollection(self._database[collection], collection, self._calls)

    __getitem__ = __getattr__


class _RecordingCollection:
    def __init__(self, collection: Any, name: str, calls: list[str]) -> None:
        self._collection, self._name, self._calls = collection, name, calls

    def __getattr__(self, method: str) -> Any:
        real = getattr(self._collection, method)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(f"{self._name}.{method}")
            return real(*args, **kwargs)

        return call


def test_authorizer_makes_one_database_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    register()
    token = login()
    calls: list[str] = []
    database = sessions.get_database()
    monkeypatch.setattr(sessions, "get_database", lambda: _RecordingDatabase(database, calls))

    authorize(token)

    assert calls == ["sessions.aggregate"]


@pytest.mark.parametrize(
    "method_arn",
    [
        "arn:aws:execute-api:us-east-1:123456789012:dbda5495fb/prod/GET/api/me",
        "arn:aws:execute-api:eu-west-3:123456789012:a1b2c3d4e5/Prod/DELETE/api/prompts/3f1c2a9e-5b7d",
    ],
)
def test_authorizer_policy_is_the_one_powertools_writes(method_arn: str) -> None:
    """The policy is written by hand (to keep Powertools' event data classes out of the init); it stays
    the document ``APIGatewayAuthorizerResponse.from_route_arn(...).allow_all_routes()`` gives."""
    from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
        APIGatewayAuthorizerResponse,
    )

    context = {CONTEXT_USER_ID: "u1", CONTEXT_SESSION_ID: "s1"}
    expected = APIGatewayAuthorizerResponse.from_route_arn(method_arn, principal_id="u1", context=context)
    expected.allow_all_routes()

    policy = load_function("authorizer").allow_whole_stage(method_arn, principal_id="u1", context=context)

    assert policy == expected.asdict()


def test_authorizer_policy_keeps_the_partition_of_the_method_arn() -> None:
    """Unlike Powertools' ``from_route_arn``, which writes ``arn:aws:`` whatever the partition."""
    method_arn = "arn:aws-cn:execute-api:cn-north-1:123456789012:a1b2c3d4e5/dev/POST/api/logout"

    policy = load_function("authorizer").allow_whole_stage(method_arn, principal_id="u1", context={})

    (statement,) = policy["policyDocument"]["Statement"]
    assert statement["Resource"] == ["arn:aws-cn:execute-api:cn-north-1:123456789012:a1b2c3d4e5/dev/*/*"]
