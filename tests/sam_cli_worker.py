"""The functions of a template, invoked one line at a time: SAM CLI's gateway's stand-in for its containers.

Run by the app's venv from the project root (``.venv/bin/python -m tests.sam_cli_worker template.yaml``), started by
``tests/sam_cli_gateway.py``. Each line on stdin is ``{"function": <logical id>, "event": <event>}``;
each answer on stdout is one line ``{"output": <what Lambda returns, as JSON text>}``: the handler's
result, or for a raised exception the error document Lambda's Python runtime returns
(``errorMessage``, ``errorType``, ``stackTrace``). The functions run as the local API runs them (its
environment, an in-memory embedded store and JWT secret), one at a time.
"""

from __future__ import annotations

import json
import sys
import traceback
import uuid
from pathlib import Path

from local_api.cli import build, parse_args


def main(template: Path) -> None:
    # The functions log to stdout (as in Lambda): here that is stderr, and stdout carries only answers.
    answers, sys.stdout = sys.stdout, sys.stderr
    api = build(parse_args(["--template", str(template), "--in-memory", "--port", "0", "--no-reload"]))
    api.server.server_close()  # only the functions are used: SAM CLI's gateway serves HTTP
    for line in sys.stdin:
        request = json.loads(line)
        try:
            result = api.runtime.invoke(
                request["function"], request["event"], request_id=str(uuid.uuid4()), may_write=True
            )
        except Exception as error:  # what Lambda returns for any raised exception
            result = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_tb(error.__traceback__),
            }
        answers.write(json.dumps({"output": json.dumps(result)}) + "\n")
        answers.flush()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
