"""``make account``: shared.accounts.admin.main against the test store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.accounts.admin import main
from shared.data.client import get_database
from tests.support import PASSWORD, authorize, invoke, login_pair, register


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # what the handlers printed before (their metrics)
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_deactivate_refuses_logins_and_ends_every_session(capsys: pytest.CaptureFixture[str]) -> None:
    register()
    pair = login_pair()

    status, out, _ = _run(capsys, "deactivate", "Ada@Example.com")

    assert (status, out) == (0, "ada@example.com: deactivated; every session ended\n")
    assert invoke("login", body={"email": "ada@example.com", "password": PASSWORD}).status == 403
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(pair["access_token"])
    assert invoke("refresh_token", body={"refresh_token": pair["refresh_token"]}).status == 401


def test_reactivate_lets_the_account_log_in_again(capsys: pytest.CaptureFixture[str]) -> None:
    register()
    main(["deactivate", "ada@example.com"])

    status, out, _ = _run(capsys, "reactivate", "ada@example.com")

    assert status == 0
    assert "active again" in out
    assert invoke("login", body={"email": "ada@example.com", "password": PASSWORD}).status == 200


def test_end_sessions_ends_every_live_session_and_says_how_many(capsys: pytest.CaptureFixture[str]) -> None:
    register()
    first, second = login_pair(), login_pair()

    status, out, _ = _run(capsys, "end-sessions", "ada@example.com")

    assert (status, out) == (0, "ada@example.com: 2 live session(s) ended\n")
    for pair in (first, second):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorize(pair["access_token"])
    assert invoke("login", body={"email": "ada@example.com", "password": PASSWORD}).status == 200


def test_sessions_lists_ids_and_times_and_never_a_token_or_hash(capsys: pytest.CaptureFixture[str]) -> None:
    user = register()
    live, ended = login_pair(), login_pair()
    invoke("refresh_token", body={"refresh_token": live["refresh_token"]})
    main(["end-sessions", "ada@example.com"])
    login_pair()
    capsys.readouterr()

    status, out, _ = _run(capsys, "sessions", "ada@example.com")

    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"user {user['id']} ada@example.com (active, registered ")
    assert lines[1] == "3 session(s):"
    assert [line.split()[-1] for line in lines[2:]] == ["(operator)", "(operator)", "live"]
    secrets = [live["refresh_token"], ended["refresh_token"], live["access_token"]]
    secrets += [s["refresh_hash"] for s in get_database().sessions.find()]
    assert not [s for s in secrets if s in out]
    assert PASSWORD not in out and "$2b$" not in out


def test_an_unknown_email_is_exit_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(capsys, "deactivate", "nobody@example.com")

    assert (status, out) == (1, "")
    assert err == "make account: no account has the email nobody@example.com\n"


@pytest.mark.parametrize("argv", [[], ["deactivate"], ["delete", "ada@example.com"]])
def test_a_bad_command_line_is_exit_status_2_with_the_usage(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    status, _, err = _run(capsys, *argv)

    assert status == 2
    assert "usage: make account" in err


def test_without_a_database_it_says_to_set_mongodb_uri(capsys: pytest.CaptureFixture[str]) -> None:
    from shared.data import client

    client.reset()  # no installed store, no URI

    status, _, err = _run(capsys, "sessions", "ada@example.com")

    assert status == 2
    assert "set MONGODB_URI" in err


def test_an_unreachable_database_is_exit_status_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/?directConnection=true")
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "200")
    from shared import config
    from shared.data import client

    config.clear_caches()
    client.reset()

    status, _, err = _run(capsys, "sessions", "ada@example.com")

    assert status == 1
    assert err.startswith("make account: the database did not answer a ping within 0.2 s (MONGODB_TIMEOUT_MS): ")
    assert err.count("\n") == 1


def test_a_reset_link_mailed_before_a_deactivation_does_not_work_after_a_reactivation() -> None:
    from shared.accounts.reset_tokens import ResetTokenRepository, new_reset_token

    user = register()
    token = new_reset_token()
    ResetTokenRepository().issue(user["id"], token, lifetime=timedelta(minutes=30))

    main(["deactivate", "ada@example.com"])
    main(["reactivate", "ada@example.com"])

    result = invoke("reset_password", body={"token": token, "new_password": "battery staple horse"})
    assert result.status == 400
