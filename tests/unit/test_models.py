from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from shared.accounts.models import UserCreate
from shared.prompts.models import PromptPublic, PromptUpdate


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Ada@Example.COM", "ada@example.com"),
        ("  ada@example.com ", "ada@example.com"),
        ("a.b+c@sub.example.io", "a.b+c@sub.example.io"),
    ],
)
def test_email_is_normalised_to_lower_case(given: str, stored: str) -> None:
    assert UserCreate(email=given, username="ada", password="password1").email == stored


@pytest.mark.parametrize(
    "email",
    [
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "a b@example.com",
        "ada@@example.com",
        "ada@.com",
        "a..b@example.com",
    ],
)
def test_invalid_emails_are_refused(email: str) -> None:
    with pytest.raises(ValidationError):
        UserCreate(email=email, username="ada", password="password1")


def test_prompt_update_reports_only_fields_sent() -> None:
    assert PromptUpdate.model_validate({"response": None}).fields_to_set() == {"response": None}
    assert PromptUpdate.model_validate({"content": "x"}).fields_to_set() == {"content": "x"}


def test_naive_datetimes_from_storage_are_read_as_utc() -> None:
    naive = datetime(2026, 1, 2, 3, 4, 5, 678000)
    plus_two = datetime(2026, 1, 2, 5, 4, 5, 678000, tzinfo=timezone(timedelta(hours=2)))

    prompt = PromptPublic(id="i", user_id="u", content="c", response=None, created_at=naive, updated_at=plus_two)

    assert prompt.created_at == naive.replace(tzinfo=UTC)
    assert prompt.model_dump(mode="json")["updated_at"] == "2026-01-02T03:04:05.678000Z"
