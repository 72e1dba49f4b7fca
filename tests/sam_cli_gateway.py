"""SAM CLI's own local API gateway for a template, with the functions run outside Docker.

Run by ``.venv-sam/bin/python`` (SAM CLI's venv: it imports ``samcli``, never the project's code):
``python tests/sam_cli_gateway.py template.yaml PORT WORKER...``. It builds the routes as
``sam local start-api`` does (``SamLocalStackProvider.get_stacks``, ``ApiProvider``) and serves them with
SAM CLI's own ``LocalApigwService`` (its Flask app: events, the Lambda authorizer, CORS, responses) on
127.0.0.1:PORT. Where ``sam local`` would start a container, the runner below sends the function's name
and event to WORKER (a command: ``tests/sam_cli_worker.py`` in the app's venv, which has the functions'
packages) and hands its answer back to SAM CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import IO, Any

from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.local.apigw.local_apigw_service import LocalApigwService


class WorkerRunner:
    """What LocalApigwService needs of SAM CLI's LocalLambdaRunner: ``invoke`` and ``is_debugging``."""

    def __init__(self, command: list[str]) -> None:
        self._worker = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._lock = threading.Lock()  # one invocation at a time, in order

    def is_debugging(self) -> bool:
        return False

    def invoke(self, function_identifier: str, event: str, stdout: Any = None, stderr: Any = None, **_: Any) -> None:
        worker_in: IO[str] = self._worker.stdin  # type: ignore[assignment]
        worker_out: IO[str] = self._worker.stdout  # type: ignore[assignment]
        with self._lock:
            worker_in.write(json.dumps({"function": function_identifier, "event": json.loads(event)}) + "\n")
            worker_in.flush()
            answer = worker_out.readline()
        if not answer:
            raise RuntimeError(f"the function worker stopped (exit status {self._worker.poll()})")
        stdout.write_str(json.loads(answer)["output"])


def main(template: str, port: int, worker: list[str]) -> None:
    stacks, _ = SamLocalStackProvider.get_stacks(template)
    service = LocalApigwService(ApiProvider(stacks).api, WorkerRunner(worker), port=port, host="127.0.0.1")
    service.create()
    service.run()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
