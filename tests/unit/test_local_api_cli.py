"""What the local API's start banner promises."""

from __future__ import annotations

import pytest

from local_api.cli import assemble, banner, parse_args
from tests.support import ROOT

RELOAD_LINE = "Edits under functions/ and shared/ apply on the next request."


@pytest.mark.parametrize(("flags", "reloads"), [((), True), (("--no-reload",), False)])
def test_banner_promises_hot_reload_only_when_it_is_on(flags: tuple[str, ...], reloads: bool) -> None:
    args = parse_args(["--in-memory", "--port", "0", "--template", str(ROOT / "template.yaml"), *flags])
    api = assemble(args)
    try:
        text = banner(api)
    finally:
        api.close()

    assert (RELOAD_LINE in text) == reloads
    assert ("Hot reload is off (--no-reload): restart to apply edits." in text) == (not reloads)
    assert (api.server.gateway.runtime.watcher is not None) == reloads
