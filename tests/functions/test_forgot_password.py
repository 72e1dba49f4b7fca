from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from shared.accounts import forgot_password
from shared.accounts.reset_tokens import ResetTokenRepository
from shared.data.client import get_database
from shared.errors import ConfigurationError
from shared.mail.mailer import use_mailer
from tests.support import invoke, load_event, load_function, register

SENDER = "no-reply@prompt-api.test"
RESET_URL = "https://app.prompt-api.test/reset-password"
_TOKEN = re.compile(r"\?token=([A-Za-z0-9_-]+)\n")


@pytest.fixture
def ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Moto's SES with the sender's domain verified; yields the list of messages SES accepted."""
    monkeypatch.setenv("MAIL_FROM", SENDER)
    monkeypatch.setenv("PASSWORD_RESET_URL", RESET_URL)
    with mock_aws():
        boto3.client("ses").verify_domain_identity(Domain="prompt-api.test")
        yield ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages


def _forgot(email: str = "ada@example.com"):
    return invoke("forgot_password", body={"email": email})


def token_of(message: Any) -> str:
    match = _TOKEN.search(message.body)
    assert match, message.body
    return match.group(1)


def test_forgot_password_fixture_mails_a_reset_link_to_the_account(ses: list[Any]) -> None:
    email = load_event("forgot_password")["body"]
    register()
    assert "ada@example.com" in email

    result = invoke("forgot_password")

    assert result.status == 202
    assert result.raw_body in (None, "")
    (message,) = ses
    assert message.source == SENDER
    assert message.destinations == {"ToAddresses": ["ada@example.com"]}
    assert message.subject == "Reset your Prompt API password"
    assert f"{RESET_URL}?token=" in message.body
    assert "30 minutes" in message.body


def test_the_token_is_256_random_bits_url_safe_and_stored_only_as_its_sha256(ses: list[Any]) -> None:
    user = register()

    _forgot()

    token = token_of(ses[0])
    assert len(token) == 43  # 32 bytes in unpadded URL-safe base64
    (stored,) = get_database().reset_tokens.find()
    assert stored["_id"] == hashlib.sha256(token.encode()).hexdigest()
    assert stored["user_id"] == user["id"]
    assert token not in str(stored)
    lifetime = stored["expires_at"] - stored["created_at"]
    assert lifetime == timedelta(minutes=30)


def _answer(result: Any) -> tuple[int, Any, dict[str, str]]:
    headers = {k: v for k, v in result.headers.items() if k.lower() not in {"x-amzn-requestid"}}
    return result.status, result.raw_body, headers


def test_known_unknown_and_inactive_emails_get_the_same_answer_and_only_the_known_a_mail(ses: list[Any]) -> None:
    ada = register()
    inactive = register("grace@example.com", username="grace")
    get_database().users.update_one({"_id": inactive["id"]}, {"$set": {"is_active": False}})

    known, unknown, deactivated = _forgot(), _forgot("nobody@example.com"), _forgot("grace@example.com")

    assert _answer(known) == _answer(unknown) == _answer(deactivated)
    assert known.status == 202
    assert [m.destinations["ToAddresses"] for m in ses] == [["ada@example.com"]]
    # Only the known email's token is stored: a stranger cannot make the API store tokens nobody gets.
    assert [t["user_id"] for t in get_database().reset_tokens.find()] == [ada["id"]]


@pytest.mark.parametrize("first", ["ada@example.com", "nobody@example.com"])
def test_the_ses_client_is_made_on_the_containers_first_request_whatever_the_email(
    ses: list[Any], monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    from shared.mail import ses as ses_module  # not imported at init: the first request imports it

    register()
    made: list[object] = []
    real_init = ses_module.SesMailer.__init__

    def counting_init(mailer: ses_module.SesMailer) -> None:
        made.append(mailer)
        real_init(mailer)

    monkeypatch.setattr(ses_module.SesMailer, "__init__", counting_init)

    _forgot(first)
    after_first = len(made)
    _forgot("ada@example.com")
    _forgot("nobody@example.com")

    assert after_first == 1  # by the first request, known email or not
    assert len(made) == 1  # and never again in this container
    assert len(ses) == 1 + (first == "ada@example.com")


def test_an_unknown_email_waits_as_long_as_a_send_takes(ses: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    register()
    waits: list[float] = []
    monkeypatch.setattr(forgot_password.time, "sleep", waits.append)

    _forgot()
    measured = forgot_password.send_time.seconds
    _forgot("nobody@example.com")

    assert measured != forgot_password.send_time.initial_s  # the known email's send was measured
    assert waits == [measured]


class _Clock:
    """A ``perf_counter`` that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_what_the_others_wait_covers_storing_the_token_and_handing_the_mail_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register()
    clock = _Clock()
    monkeypatch.setattr(forgot_password.time, "perf_counter", clock)
    issue = ResetTokenRepository.issue

    def slow_issue(self: ResetTokenRepository, *args: Any, **kwargs: Any) -> None:
        issue(self, *args, **kwargs)
        clock.now += 0.02  # storing the token: a database round trip or two

    class SlowMailer:
        def send(self, *, sender: str, to: str, subject: str, text: str) -> None:
            clock.now += 0.01  # handing the mail over

    monkeypatch.setattr(ResetTokenRepository, "issue", slow_issue)
    use_mailer(SlowMailer())

    assert _forgot().status == 202

    assert forgot_password.send_time.seconds == pytest.approx(0.03)


def _from(source_ip: str, email: str = "ada@example.com"):
    return invoke("forgot_password", body={"email": email}, source_ip=source_ip)


TOO_MANY_FROM_HERE = {"detail": "Too many password reset requests from this address; try again later"}


def test_150_requests_for_unknown_emails_from_one_address_store_a_bounded_number_of_documents(
    ses: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forgot_password.time, "sleep", lambda seconds: None)

    results = [_from("198.51.100.9", f"nobody-{n}@example.com") for n in range(150)]

    assert [r.status for r in results] == [202] * 20 + [429] * 130
    assert all(r.body == TOO_MANY_FROM_HERE for r in results[20:])
    assert 3599 <= int(results[-1].headers["Retry-After"]) <= 3600
    database = get_database()
    assert database.reset_tokens.count_documents({}) == 0
    # One count per email admitted, one for the address; each expires with its window (TTL index).
    assert database.reset_requests.count_documents({}) == 21
    assert database.reset_requests.count_documents({"expires_at": {"$type": "date"}}) == 21
    assert _from("198.51.100.10", "nobody-0@example.com").status == 202  # another address: its own budget
    assert ses == []


@pytest.mark.parametrize("registered", [True, False])
def test_past_the_address_limit_it_is_429_alike_for_known_and_unknown(
    ses: list[Any], monkeypatch: pytest.MonkeyPatch, registered: bool
) -> None:
    monkeypatch.setenv("PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS", "2")
    if registered:
        register()

    statuses = [_from("198.51.100.9", email).status for email in ("a@example.com", "b@example.com")]
    throttled = _from("198.51.100.9")

    assert statuses == [202, 202]
    assert (throttled.status, throttled.body) == (429, TOO_MANY_FROM_HERE)
    assert 3599 <= int(throttled.headers["Retry-After"]) <= 3600
    assert get_database().reset_requests.find_one({"_id": "ada@example.com"}) is None  # counted nothing else
    assert ses == []
    assert _from("198.51.100.10").status == 202
    assert len(ses) == (1 if registered else 0)


def _alike_429s(known: Any, unknown: Any) -> None:
    """The same 429: status, body and headers (``Retry-After`` within the second the two fell apart)."""
    assert (known.status, known.raw_body) == (429, unknown.raw_body)
    ours, theirs = _answer(known)[2], _answer(unknown)[2]
    assert abs(int(ours.pop("Retry-After")) - int(theirs.pop("Retry-After"))) <= 1
    assert ours == theirs


def test_the_429s_of_both_limits_answer_known_and_unknown_emails_alike(
    ses: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PASSWORD_RESET_MAX_REQUESTS", "1")
    monkeypatch.setenv("PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS", "4")
    register()
    emails = ("ada@example.com", "nobody@example.com")

    admitted = [_from("198.51.100.9", email).status for email in emails]
    per_email = [_from("198.51.100.9", email) for email in emails]
    per_address = [_from("198.51.100.9", email) for email in emails]

    assert admitted == [202, 202]
    _alike_429s(*per_email)
    assert per_email[0].body == {"detail": "Too many password reset requests for this email; try again later"}
    _alike_429s(*per_address)
    assert per_address[0].body == TOO_MANY_FROM_HERE
    assert len(ses) == 1


def test_a_newer_request_voids_the_earlier_token(ses: list[Any]) -> None:
    register()

    _forgot()
    _forgot()

    first, second = token_of(ses[0]), token_of(ses[1])
    stored = [t["_id"] for t in get_database().reset_tokens.find()]
    assert stored == [hashlib.sha256(second.encode()).hexdigest()]
    assert first != second


@pytest.mark.parametrize("registered", [True, False])
def test_past_the_request_limit_it_is_429_alike_for_known_and_unknown(ses: list[Any], registered: bool) -> None:
    if registered:
        register()

    statuses = [_forgot().status for _ in range(4)]
    throttled = _forgot()

    assert statuses == [202, 202, 202, 429]
    assert throttled.body == {"detail": "Too many password reset requests for this email; try again later"}
    assert 3599 <= int(throttled.headers["Retry-After"]) <= 3600
    assert len(ses) == (3 if registered else 0)


def test_the_request_limit_counts_the_normalised_email_and_follows_its_setting(
    ses: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PASSWORD_RESET_MAX_REQUESTS", "1")
    register()

    assert _forgot("Ada@Example.com").status == 202
    assert _forgot("ada@example.COM").status == 429
    assert _forgot("nobody@example.com").status == 202


def test_the_token_lifetime_follows_password_reset_minutes(ses: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PASSWORD_RESET_MINUTES", "10")
    register()

    _forgot()

    stored = get_database().reset_tokens.find_one()
    assert stored["expires_at"] - stored["created_at"] == timedelta(minutes=10)
    assert stored["expires_at"] > datetime.now(UTC) + timedelta(minutes=9)
    assert "10 minutes" in ses[0].body


def test_a_mail_ses_refuses_still_answers_202_and_is_counted_without_the_token_in_the_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MAIL_FROM", "no-reply@unverified.test")
    register()
    with mock_aws():  # no identity verified: SES answers MessageRejected
        result = _forgot()
        sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages

    out = capsys.readouterr().out + caplog.text
    assert result.status == 202
    assert sent == []
    assert '"PasswordResetMailFailed":[1.0]' in out
    assert "SES refused the mail: MessageRejected" in caplog.text
    assert "ada@example.com" not in caplog.text


@pytest.mark.parametrize(
    "body", [{}, {"email": "not an email"}, {"email": "ada@example.com", "extra": 1}, {"email": ["ada@example.com"]}]
)
def test_forgot_password_with_a_bad_body_is_422(ses: list[Any], body: dict[str, Any]) -> None:
    result = invoke("forgot_password", body=body)

    assert result.status == 422
    assert result.body["detail"][0]["loc"][0] == "body"
    assert ses == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MAIL_FROM", ""),
        ("MAIL_FROM", "no-reply@example.com"),
        ("PASSWORD_RESET_URL", ""),
        ("PASSWORD_RESET_URL", "https://app.example.com/reset-password"),
    ],
)
def test_inside_lambda_a_missing_or_placeholder_mail_setting_stops_the_function_at_start(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "forgot")
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1")
    monkeypatch.setenv("JWT_SECRET", "a-strong-secret-of-sufficient-length-0123456789")
    monkeypatch.setenv("MAIL_FROM", SENDER)
    monkeypatch.setenv("PASSWORD_RESET_URL", RESET_URL)
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigurationError, match=variable):
        load_function("forgot_password")


def test_inside_lambda_real_mail_settings_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "forgot")
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1")
    monkeypatch.setenv("JWT_SECRET", "a-strong-secret-of-sufficient-length-0123456789")
    monkeypatch.setenv("MAIL_FROM", "Prompt API <no-reply@prompt-api.test>")
    monkeypatch.setenv("PASSWORD_RESET_URL", RESET_URL)

    assert forgot_password.reset_mail_settings() == ("Prompt API <no-reply@prompt-api.test>", RESET_URL)
