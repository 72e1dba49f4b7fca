"""The routes SAM CLI's own local API would serve for a template, as JSON on stdout.

Run by ``.venv-sam/bin/python`` (SAM CLI's venv: it imports ``samcli``, never the project's code), from
``tests/test_sam_cli.py``: ``python tests/sam_cli_routes.py template.yaml``. It reads the template the way
``sam local start-api`` does (``SamLocalStackProvider.get_stacks``, then ``ApiProvider``) and prints one
object per method and path: the function, the authorizer's name and its function. SAM CLI's warnings
(such as an authorizer it cannot resolve, which it then drops) go to stderr.
"""

from __future__ import annotations

import json
import logging
import sys

from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider


def routes(template: str) -> list[dict[str, str | None]]:
    stacks, _ = SamLocalStackProvider.get_stacks(template)
    found = []
    for route in ApiProvider(stacks).routes:
        authorizer = route.authorizer_object
        # Every method, OPTIONS too: the template has no Cors that SAM CLI would answer preflights for
        # itself; PreflightFunction's OPTIONS events are routes like the others.
        for method in route.methods:
            found.append(
                {
                    "method": method,
                    "path": route.path,
                    "function": route.function_name,
                    "authorizer": route.authorizer_name if authorizer else None,
                    "authorizer_function": getattr(authorizer, "lambda_name", None),
                }
            )
    return found


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    json.dump(routes(sys.argv[1]), sys.stdout)
