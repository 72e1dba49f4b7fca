"""``python -m local_api`` as a child process, for the integration tests and the benchmarks.

One place for what both need: a free port, the variables of a developer's shell that would change
what the tool does (cleared), starting the server with its arguments, environment and folder,
waiting until it answers, and stopping it (SIGTERM, then kill).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from local_api import project

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0

# What a developer's shell might set that would change what the tool does: every variable the
# layer's settings read. A child gets them only when the caller passes them in ``env``.
CLEARED_VARIABLES: tuple[str, ...] = project.settings_variables()


def free_port() -> int:
    """A local TCP port with nothing listening on it: to listen on, or to stand for a dead server."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def child_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without ``CLEARED_VARIABLES``, then ``env`` on top.

    ``PYTHONPATH`` points at the project, so that ``-m local_api`` imports from any folder.
    """
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED_VARIABLES}
    environ.update({"PYTHONPATH": str(PROJECT_ROOT), "PYTHONUNBUFFERED": "1"})
    environ.update(env or {})
    return environ


class LocalApiProcess:
    """One ``python -m local_api --port <free port> *args`` child; its output to ``output`` (else discarded)."""

    def __init__(
        self,
        *args: str,
        cwd: Path = PROJECT_ROOT,
        env: Mapping[str, str] | None = None,
        output: IO[bytes] | None = None,
        poll_interval_s: float = 0.02,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.poll_interval_s = poll_interval_s
        self.started = time.monotonic()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "local_api", "--port", str(self.port), *args],
            cwd=cwd,
            env=child_environment(env),
            stdout=output if output is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def describe_failure(self) -> str:
        """What to say when the server exits or does not come up (subclasses add its output)."""
        return f"exit status {self.process.returncode}"

    def wait_for(self, ready: Callable[[], bool], state: str, timeout_s: float = START_TIMEOUT_S) -> float:
        """Seconds from the start of the process until ``ready()``; fails if it exits or takes too long."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"local API exited: {self.describe_failure()}")
            if ready():
                return time.monotonic() - self.started
            time.sleep(self.poll_interval_s)
        raise RuntimeError(f"local API not {state} after {timeout_s} s: {self.describe_failure()}")

    def answers_health(self) -> bool:
        """Whether ``GET /api/health`` answers 200 now."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=2)
        try:
            connection.request("GET", "/api/health")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def accepts_connections(self) -> bool:
        """Whether the port accepts a TCP connection now."""
        try:
            with socket.create_connection((HOST, self.port), timeout=1):
                return True
        except OSError:
            return False

    def wait_until_healthy(self) -> float:
        """Seconds from the start of the process until /api/health first answered 200."""
        return self.wait_for(self.answers_health, "healthy")

    def wait_until_listening(self) -> float:
        """For templates without a health route: seconds until the port accepts connections."""
        return self.wait_for(self.accepts_connections, "listening")

    def stop(self) -> None:
        """SIGTERM, then kill if it has not exited within ``STOP_TIMEOUT_S``."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
