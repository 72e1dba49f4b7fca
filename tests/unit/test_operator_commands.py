"""The operator's commands as an operator runs them (``python -m``, as ``make`` does): a bad setting or a
database that is not there is one line on stderr and the documented exit status, never a traceback.

Each runs in a subprocess with the tests' clean environment (no JWT secret needed) plus what the test sets.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.support import ROOT, free_port

COMMANDS = {
    "make account": ["shared.accounts.admin", "sessions", "ada@example.com"],
    "make indexes": ["shared.data.indexes"],
    "make migrate-seed": ["shared.data.migrate_seed"],
}
EXIT_UNREACHABLE, EXIT_USAGE = 1, 2


def _run(command: str, **environ: str) -> tuple[int, str, float]:
    """``command`` in a fresh process: its exit status, its stderr and the seconds it took."""
    env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
    env.update(environ)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", *COMMANDS[command]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr, time.monotonic() - started


def _closed_port() -> str:
    return f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MONGODB_TIMEOUT_MS", "abc", "MONGODB_TIMEOUT_MS must be an integer, got 'abc'"),
        ("MONGODB_TIMEOUT_MS", "-1", "MONGODB_TIMEOUT_MS must be between 100 and 20000, got -1"),
        ("MONGODB_PING_TIMEOUT_MS", "soon", "MONGODB_PING_TIMEOUT_MS must be an integer, got 'soon'"),
        ("MONGODB_URI", "http://db.example", "MONGODB_URI: Invalid URI scheme"),
    ],
)
def test_a_bad_database_setting_is_one_line_naming_it_and_exit_status_2(
    command: str, variable: str, value: str, says: str
) -> None:
    status, err, _ = _run(command, **{"MONGODB_URI": _closed_port(), variable: value})

    assert (status, err.count("\n")) == (EXIT_USAGE, 1), err
    assert err.startswith(f"{command}: {says}")


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unreachable_database_is_one_line_and_exit_status_1_after_the_ping_timeout(command: str) -> None:
    """The first ping waits MONGODB_PING_TIMEOUT_MS, not the server-selection timeout of the work after it
    (the functions' 15 s for make account, OPERATOR_TIMEOUT_MS' 10 s for the others)."""
    status, err, elapsed = _run(
        command, MONGODB_URI=_closed_port(), MONGODB_TIMEOUT_MS="15000", MONGODB_PING_TIMEOUT_MS="300"
    )

    assert (status, err.count("\n")) == (EXIT_UNREACHABLE, 1), err
    assert err.startswith(f"{command}: the database did not answer a ping within 0.3 s (MONGODB_PING_TIMEOUT_MS): ")
    assert "Connection refused" in err
    assert elapsed < 5  # a third of 15 s, interpreter start included; about 1 s
