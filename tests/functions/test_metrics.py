"""The business metrics and the cold-start metric, read back from the EMF lines the handlers print."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.support import PASSWORD, authorize, invoke, login_pair, register


def emitted(capsys: pytest.CaptureFixture[str]) -> Counter[str]:
    """How often each metric was published since the last call, by name (EMF lines on stdout)."""
    counts: Counter[str] = Counter()
    for line in capsys.readouterr().out.splitlines():
        record = json.loads(line) if line.startswith("{") else {}
        for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
            assert directive["Namespace"] == "PromptApi"
            for metric in directive["Metrics"]:
                values = record[metric["Name"]]
                counts[metric["Name"]] += int(sum(values) if isinstance(values, list) else values)
    return counts


def test_register_and_login_count_and_the_first_invocation_is_a_cold_start(capsys: pytest.CaptureFixture[str]) -> None:
    register()
    login_pair()

    assert emitted(capsys) == {"Registered": 1, "LoginSucceeded": 1, "ColdStart": 1}


def test_wrong_passwords_count_as_failed_logins_then_throttled(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    register()
    capsys.readouterr()

    wrong = {"email": "ada@example.com", "password": "wrong " + PASSWORD}
    statuses = [invoke("login", body=wrong).status for _ in range(3)]

    assert statuses == [401, 401, 429]
    assert emitted(capsys) == {"LoginFailed": 2, "LoginThrottled": 1}


def test_refresh_and_reuse_are_counted(capsys: pytest.CaptureFixture[str]) -> None:
    register()
    pair = login_pair()
    capsys.readouterr()

    first = invoke("refresh_token", body={"refresh_token": pair["refresh_token"]})
    assert first.status == 200
    assert invoke("refresh_token", body={"refresh_token": pair["refresh_token"]}).status == 200  # a retry
    assert invoke("refresh_token", body={"refresh_token": first.body["refresh_token"]}).status == 200
    assert invoke("refresh_token", body={"refresh_token": pair["refresh_token"]}).status == 401  # reuse

    counts = emitted(capsys)
    assert (counts["TokenRefreshed"], counts["RefreshRetried"], counts["RefreshReuseDetected"]) == (3, 1, 1)


def test_created_prompts_and_authorizer_denials_are_counted(capsys: pytest.CaptureFixture[str]) -> None:
    user = register()
    capsys.readouterr()

    assert invoke("create_prompt", body={"content": "Count me."}, user_id=user["id"]).status == 201
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize("not-a-token")

    counts = emitted(capsys)
    assert (counts["PromptCreated"], counts["AuthorizerDenied"]) == (1, 1)
