from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from datetime import UTC, datetime, timedelta

import bcrypt
import jwt
import pytest

from shared.accounts.access_tokens import ALGORITHM, create_access_token, decode_access_token, key_id
from shared.accounts.passwords import check_password, hash_cost, hash_password, needs_rehash, verify_password
from shared.accounts.refresh_tokens import hash_refresh_token, new_refresh_token

SECRET = "unit-test-secret-0123456789-0123456789"


def _token(**changes: object) -> str:
    kwargs = {
        "subject": "user-1",
        "session_id": "session-1",
        "secret": SECRET,
        "issuer": "iss",
        "audience": "aud",
        "expires_minutes": 5,
    }
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


def _costs_checked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The bcrypt cost of every check made from now on, in order."""
    costs: list[int] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, h: costs.append(hash_cost(h.decode())) or real(pw, h))
    return costs


def test_a_hash_of_a_lower_cost_also_spends_a_check_at_the_configured_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    old = hash_password("s3cret-pass", rounds=4)
    costs = _costs_checked(monkeypatch)

    assert check_password("wrong-pass", old, rounds=6).matches is False
    assert costs == [4, 6]  # an unknown email spends [6]: the cost-4 check is 1/4 of it on top


def test_a_hash_of_the_configured_cost_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    current = hash_password("s3cret-pass", rounds=5)
    costs = _costs_checked(monkeypatch)

    assert check_password("wrong-pass", current, rounds=5).matches is False
    assert check_password("wrong-pass", None, rounds=5).matches is False
    assert costs == [5, 5]


def test_a_right_password_on_a_hash_of_another_cost_is_stale() -> None:
    assert check_password("s3cret-pass", hash_password("s3cret-pass", rounds=4), rounds=5).stale is True
    assert check_password("s3cret-pass", hash_password("s3cret-pass", rounds=5), rounds=5).stale is False


def test_passwords_are_hashed_and_checked_in_nfkc() -> None:
    nfd = unicodedata.normalize("NFD", "Ångström über")
    hashed = hash_password(nfd, rounds=4)

    assert bcrypt.checkpw(unicodedata.normalize("NFKC", nfd).encode(), hashed.encode())
    assert check_password(unicodedata.normalize("NFC", nfd), hashed, rounds=4) == check_password(nfd, hashed, rounds=4)
    assert check_password("\uff21ngstr\u00f6m \u00fcber", hashed, rounds=4).matches is False  # not the same Å
    assert check_password("\uff21", hash_password("A", rounds=4), rounds=4).matches is True  # full-width A is A


def test_a_hash_of_the_text_as_sent_before_normalisation_matches_and_is_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    nfd = unicodedata.normalize("NFD", "Ångström über")
    legacy = bcrypt.hashpw(nfd.encode(), bcrypt.gensalt(rounds=4)).decode()
    costs = _costs_checked(monkeypatch)

    check = check_password(nfd, legacy, rounds=4)

    assert check.matches is True
    assert check.stale is True
    assert costs == [4, 4]  # the normal form first, then the text as sent


def test_an_unnormalised_password_of_an_unknown_user_spends_both_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    costs = _costs_checked(monkeypatch)

    assert check_password(unicodedata.normalize("NFD", "Ångström"), None, rounds=4).matches is False
    assert check_password("plain ascii", None, rounds=4).matches is False
    assert costs == [4, 4, 4]


def test_hash_password_refuses_what_nfkc_makes_longer_than_72_bytes() -> None:
    with pytest.raises(ValueError, match="72 bytes"):
        hash_password("\ufdfa" * 3 + "aaaaa", rounds=4)  # 14 bytes as sent, 104 in NFKC


def test_verify_password_over_72_bytes_is_false_not_an_error() -> None:
    hashed = hash_password("a" * 72, rounds=4)

    assert verify_password("a" * 73, hashed, rounds=4) is False


def test_token_round_trip_has_all_claims() -> None:
    now = datetime(2020, 1, 1, tzinfo=UTC)
    token = _token(now=now)

    claims = jwt.decode(token, SECRET, algorithms=[ALGORITHM], audience="aud", options={"verify_exp": False})

    assert re.fullmatch(r"[0-9a-f]{32}", claims.pop("jti"))
    assert claims == {
        "sub": "user-1",
        "sid": "session-1",
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 300,
        "iss": "iss",
        "aud": "aud",
    }
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_decode_access_token_returns_claims_of_a_valid_token() -> None:
    assert decode_access_token(_token(), secrets=[SECRET], issuer="iss", audience="aud")["sub"] == "user-1"


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
        decode_access_token(token, **{"secrets": [SECRET], "issuer": "iss", "audience": "aud", **decode_changes})


def test_decode_access_token_refuses_other_algorithms() -> None:
    now = datetime.now(UTC)
    claims = {"sub": "u", "iat": now, "exp": now + timedelta(minutes=5), "iss": "iss", "aud": "aud"}
    long_secret = SECRET * 2
    token = jwt.encode(claims, long_secret, algorithm="HS512", headers={"kid": key_id(long_secret)})

    with pytest.raises(jwt.InvalidAlgorithmError):
        decode_access_token(token, secrets=[long_secret], issuer="iss", audience="aud")


def test_two_tokens_of_one_session_have_different_jti() -> None:
    first, second = (jwt.decode(_token(), options={"verify_signature": False}) for _ in range(2))

    assert first["sid"] == second["sid"] == "session-1"
    assert first["jti"] != second["jti"]


@pytest.mark.parametrize("missing", ["sid", "jti"])
def test_decode_access_token_requires_sid_and_jti(missing: str) -> None:
    claims = jwt.decode(_token(), options={"verify_signature": False})
    del claims[missing]
    token = jwt.encode(claims, SECRET, algorithm=ALGORITHM, headers={"kid": key_id(SECRET)})

    with pytest.raises(jwt.MissingRequiredClaimError):
        decode_access_token(token, secrets=[SECRET], issuer="iss", audience="aud")


def test_refresh_tokens_are_random_256_bits_and_stored_as_sha256() -> None:
    tokens = {new_refresh_token() for _ in range(100)}

    assert len(tokens) == 100
    assert all(len(base64.urlsafe_b64decode(t + "=")) == 32 for t in tokens)
    token = next(iter(tokens))
    assert hash_refresh_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in hash_refresh_token(token)


@pytest.mark.parametrize(("hashed", "cost"), [("$2b$12$" + "x" * 53, 12), ("$2a$04$" + "x" * 53, 4), ("plain", None)])
def test_hash_cost_reads_the_bcrypt_cost(hashed: str, cost: int | None) -> None:
    assert hash_cost(hashed) == cost


def test_needs_rehash_when_the_cost_differs() -> None:
    hashed = hash_password("s3cret-pass", rounds=5)

    assert needs_rehash(hashed, rounds=4) is True
    assert needs_rehash(hashed, rounds=5) is False
