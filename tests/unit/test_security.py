from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bcrypt
import jwt
import pytest

from shared.security import ALGORITHM, create_access_token, decode_access_token, hash_password, verify_password

SECRET = "unit-test-secret-0123456789-0123456789"


def _token(**changes: object) -> str:
    kwargs = {"subject": "user-1", "secret": SECRET, "issuer": "iss", "audience": "aud", "expires_minutes": 5}
    return create_access_token(**{**kwargs, **changes})  # type: ignore[arg-type]


def test_hash_password_uses_bcrypt_with_the_given_cost() -> None:
    hashed = hash_password("s3cret-pass", rounds=5)

    assert hashed.startswith("$2b$05$")
    assert bcrypt.checkpw(b"s3cret-pass", hashed.encode())


def test_verify_password_matches_only_the_right_password() -> None:
    hashed = hash_password("s3cret-pass", rounds=4)

    assert verify_password("s3cret-pass", hashed, rounds=4) is True
    assert verify_password("s3cret-pasS", hashed, rounds=4) is False


def test_verify_password_without_hash_spends_a_bcrypt_check(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, h: calls.append(h) or real(pw, h))

    assert verify_password("whatever-pass", None, rounds=4) is False
    assert len(calls) == 1
    assert calls[0].startswith(b"$2b$04$")


def test_verify_password_over_72_bytes_is_false_not_an_error() -> None:
    hashed = hash_password("a" * 72, rounds=4)

    assert verify_password("a" * 73, hashed, rounds=4) is False


def test_token_round_trip_has_all_claims() -> None:
    now = datetime(2020, 1, 1, tzinfo=UTC)
    token = _token(now=now)

    claims = jwt.decode(token, SECRET, algorithms=[ALGORITHM], audience="aud", options={"verify_exp": False})

    assert claims == {
        "sub": "user-1",
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 300,
        "iss": "iss",
        "aud": "aud",
    }
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_decode_access_token_returns_claims_of_a_valid_token() -> None:
    assert decode_access_token(_token(), secret=SECRET, issuer="iss", audience="aud")["sub"] == "user-1"


@pytest.mark.parametrize(
    ("token_changes", "decode_changes"),
    [
        ({"now": datetime.now(UTC) - timedelta(minutes=10)}, {}),
        ({"secret": "another-secret-0123456789-0123456789"}, {}),
        ({}, {"issuer": "other"}),
        ({}, {"audience": "other"}),
    ],
)
def test_decode_access_token_refuses_invalid_tokens(token_changes: dict, decode_changes: dict) -> None:
    token = _token(**token_changes)

    with pytest.raises(jwt.InvalidTokenError):
        decode_access_token(token, **{"secret": SECRET, "issuer": "iss", "audience": "aud", **decode_changes})


def test_decode_access_token_refuses_other_algorithms() -> None:
    now = datetime.now(UTC)
    claims = {"sub": "u", "iat": now, "exp": now + timedelta(minutes=5), "iss": "iss", "aud": "aud"}
    long_secret = SECRET * 2
    token = jwt.encode(claims, long_secret, algorithm="HS512")

    with pytest.raises(jwt.InvalidAlgorithmError):
        decode_access_token(token, secret=long_secret, issuer="iss", audience="aud")
