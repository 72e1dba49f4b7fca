"""Every route that touches the database answers 503 with a detail when it cannot be reached."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from shared.errors import ServiceUnavailable
from tests.support import PASSWORD, authorize, invoke
from tests.test_template import RESOURCES, json_filter_matches

USER_ID = "0b5f4c1e-8c1e-4a55-9e39-3f6f8f0b8a10"

ROUTES = [
    ("register", {"body": {"email": "ada@example.com", "username": "ada", "password": PASSWORD}}),
    ("login", {"body": {"email": "ada@example.com", "password": PASSWORD}}),
    ("me", {"user_id": USER_ID}),
    ("create_prompt", {"user_id": USER_ID}),
    ("list_prompts", {"user_id": USER_ID}),
    ("get_prompt", {"user_id": USER_ID}),
    ("update_prompt", {"user_id": USER_ID}),
    ("delete_prompt", {"user_id": USER_ID}),
    ("refresh_token", {}),
    ("logout", {"user_id": USER_ID, "sid": USER_ID}),
    ("update_me", {"user_id": USER_ID}),
    ("change_password", {"user_id": USER_ID, "sid": USER_ID}),
    ("delete_me", {"user_id": USER_ID, "sid": USER_ID}),
    ("create_status_check", {}),
    ("list_status_checks", {}),
]


@pytest.mark.usefixtures("unreachable_mongodb")
@pytest.mark.parametrize(("route", "changes"), ROUTES, ids=[r for r, _ in ROUTES])
def test_route_with_database_unreachable_returns_503_within_seconds(route: str, changes: dict) -> None:
    started = time.monotonic()
    result = invoke(route, **changes)
    elapsed = time.monotonic() - started

    assert result.status == 503
    assert result.body == {"detail": "Database unavailable"}
    assert elapsed < 5


def _valid_token() -> str:
    """A signed, unexpired access token: what the authorizer can judge only by asking the database."""
    from shared.accounts.access_tokens import create_access_token
    from tests.support import TEST_JWT_SECRET

    return create_access_token(
        subject=USER_ID,
        session_id=USER_ID,
        secret=TEST_JWT_SECRET,
        issuer="prompt-api",
        audience="prompt-api",
        expires_minutes=5,
    )


@pytest.mark.usefixtures("unreachable_mongodb")
def test_authorizer_with_database_unreachable_fails_as_unavailable_not_unauthorized() -> None:
    with pytest.raises(ServiceUnavailable):
        authorize(_valid_token())


def _log_records(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.mark.usefixtures("unreachable_mongodb")
def test_authorizer_on_an_unreachable_database_logs_the_line_the_errors_alarm_subtracts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # FunctionErrorsAlarm subtracts these failures (template.yaml): an outage must not roll deploys back.
    pattern = RESOURCES["DatabaseUnavailableMetricFilter"]["Properties"]["FilterPattern"]
    token = _valid_token()
    capsys.readouterr()

    with pytest.raises(ServiceUnavailable):
        authorize(token)
    outage = _log_records(capsys.readouterr().out)
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize("not-a-token")
    refused = _log_records(capsys.readouterr().out)

    assert len([r for r in outage if json_filter_matches(pattern, r)]) == 1
    assert refused
    assert [r for r in refused if json_filter_matches(pattern, r)] == []
