"""``make docs-check`` as a test where a Chromium binary exists (``.ci/run`` installs one; skipped without)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.docs_check import find_chromium, rendered_operations
from tests.integration.helpers import ROOT

CHROMIUM = find_chromium()
# CI installs Chromium (.ci/run), so there a missing browser is a failure, not a skip.
SKIP_WITHOUT_CHROMIUM = CHROMIUM is None and os.environ.get("CI") != "true"


def test_rendered_operations_pair_each_method_with_its_path() -> None:
    dom = (
        '<div class="opblock opblock-get"><span class="opblock-summary-method">GET</span>'
        '<span class="opblock-summary-path" data-path="/api/prompts/{prompt_id}"><a><span>/api/prompts/'
        "<wbr>{prompt_id}</span></a></span></div>"
        '<div class="opblock opblock-delete"><span class="opblock-summary-method">DELETE</span>'
        '<span class="opblock-summary-path" data-path="/api/prompts/{prompt_id}"></span></div>'
    )

    assert rendered_operations(dom) == {("GET", "/api/prompts/{prompt_id}"), ("DELETE", "/api/prompts/{prompt_id}")}


@pytest.mark.slow
@pytest.mark.skipif(SKIP_WITHOUT_CHROMIUM, reason="no Chromium binary on PATH (Debian: apt-get install chromium)")
def test_swagger_ui_shows_every_operation_and_authorize_works(tmp_path: Path) -> None:
    screenshot = tmp_path / "docs.png"
    command = [sys.executable, "-m", "tests.integration.docs_check", "--screenshot", str(screenshot)]

    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)

    assert done.returncode == 0, done.stderr
    assert "every documented operation is shown on /api/docs" in done.stdout
    assert "Authorize with a token from /api/login, then Try it out on GET /api/me: 200" in done.stdout
    assert screenshot.read_bytes().startswith(b"\x89PNG")
