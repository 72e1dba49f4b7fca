"""The Makefile's verbs pass what the README says they pass."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="no make on PATH")


def make(*arguments: str) -> subprocess.CompletedProcess[str]:
    # -o install: the venv these tests run in is there; make must not rebuild it.
    command = [str(MAKE), "-s", "-o", "install", *arguments]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def test_make_start_api_hands_args_to_the_local_api() -> None:
    done = make("-n", "start-api", "ARGS=--parameter-overrides AuthorizerCacheSeconds=0")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].endswith("-m local_api --parameter-overrides AuthorizerCacheSeconds=0")


def test_make_start_api_runs_the_local_api_with_args() -> None:
    # An unknown parameter stops the tool before it listens: its message proves it got the arguments.
    done = make("start-api", "ARGS=--in-memory --port 0 --parameter-overrides NoSuchParameter=1")

    assert done.returncode != 0
    assert "local_api: --parameter-overrides: NoSuchParameter not a parameter of template.yaml" in done.stderr
