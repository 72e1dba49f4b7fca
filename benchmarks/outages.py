"""How long health and ``make account`` take to give up on a database that is not there.

Three local stand-ins for a database that is down, each on 127.0.0.1, started by this script:

- closed port: nothing listens, the connection is refused at once (a stopped server, a wrong port);
- drops packets: a listener whose accept queue is full, so the kernel drops each new SYN and the client
  retransmits into silence (what a firewall or an access list that drops, or a cluster whose address is
  unreachable, looks like);
- never answers: a listener that completes every TCP handshake and never sends a byte (a hung server, a
  proxy with nothing behind it).

For each, in fresh processes with the settings' defaults (nothing but ``MONGODB_URI`` set): ``GET
/api/health`` (``functions/health/app.py`` loaded as Lambda loads it, then its ``events/health.json``
invoke timed: the status and seconds) and ``make account ARGS="sessions ada@example.com"`` (its
``main()`` in a fresh interpreter, as ``python -m shared.accounts.admin`` runs it: the status and the
process's seconds from start to exit, interpreter start, imports and pymongo's own exit included; then
the seconds of ``main()`` alone, and the lines written to stderr, of the last run). Medians of ``--runs``
runs.

    .venv/bin/python -m benchmarks.outages [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.config import VARIABLES

ROOT = Path(__file__).resolve().parent.parent

# Runs in the measured process: argv is the handler file, then the event file.
HEALTH_PROBE = """
import importlib.util, json, sys, time

class Context:
    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 256
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    log_group_name = log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 25000

spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
with open(sys.argv[2]) as f:
    event = json.load(f)
started = time.perf_counter()
result = module.lambda_handler(event, Context())
print("RESULT", json.dumps({"status": result["statusCode"], "seconds": time.perf_counter() - started}))
"""


@contextmanager
def closed_port() -> Iterator[int]:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    yield port


@contextmanager
def dropping_listener() -> Iterator[int]:
    """A listener whose accept queue (backlog 0: one connection) is full: the kernel drops new SYNs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)
    probe = socket.socket()
    probe.settimeout(1)
    try:
        probe.connect(("127.0.0.1", port))
        raise SystemExit("benchmarks.outages: this kernel does not drop SYNs to a full accept queue")
    except TimeoutError:
        pass
    finally:
        probe.close()
    try:
        yield port
    finally:
        filler.close()
        listener.close()


@contextmanager
def silent_listener() -> Iterator[int]:
    """A listener that never accepts, with room in its queue: every handshake completes, nothing answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()


def environment(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(
        MONGODB_URI=f"mongodb://127.0.0.1:{port}/",
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_SERVICE_NAME="prompt-api",
        PYTHONPATH=str(ROOT),
    )
    return env


def health(port: int) -> tuple[int, float, str]:
    handler, event = ROOT / "functions" / "health" / "app.py", ROOT / "events" / "health.json"
    done = subprocess.run(
        [sys.executable, "-c", HEALTH_PROBE, str(handler), str(event)],
        cwd=ROOT,
        env=environment(port),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise SystemExit(f"benchmarks.outages: the health probe failed:\n{done.stderr[-2000:]}")
    result = json.loads(lines[-1].removeprefix("RESULT "))
    return int(result["status"]), float(result["seconds"]), ""


# Runs in the measured process: ``make account``'s main(), timed, as ``python -m shared.accounts.admin`` runs it.
ACCOUNT_PROBE = """
import json, sys, time
from shared.accounts.admin import main
started = time.perf_counter()
status = main(["sessions", "ada@example.com"])
print("RESULT", json.dumps({"status": status, "seconds": time.perf_counter() - started}))
sys.exit(status)
"""


def account(port: int) -> tuple[int, float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", ACCOUNT_PROBE],
        cwd=ROOT,
        env=environment(port),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    seconds = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise SystemExit(f"benchmarks.outages: the make account probe failed:\n{done.stderr[-2000:]}")
    in_main = float(json.loads(lines[-1].removeprefix("RESULT "))["seconds"])
    err = done.stderr.strip().splitlines()
    shown = err[-1][:100] if err else ""
    return done.returncode, seconds, f"main() {in_main:.2f} s; stderr {len(err)} line(s): {shown}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    targets = {"closed port": closed_port, "drops packets": dropping_listener, "never answers": silent_listener}
    measures = {"GET /api/health": health, "make account": account}
    print(f"{'database':<15} {'what':<17} {'status':>6} {'median s':>9}  {'runs s':<20} stderr")
    for name, target in targets.items():
        for what, measure in measures.items():
            results = []
            for _ in range(args.runs):
                with target() as port:
                    results.append(measure(port))
            seconds = [s for _, s, _ in results]
            statuses = sorted({status for status, _, _ in results})
            runs = ", ".join(f"{s:.2f}" for s in seconds)
            status = "/".join(map(str, statuses))
            print(f"{name:<15} {what:<17} {status:>6} {statistics.median(seconds):>9.2f}  {runs:<20} {results[-1][2]}")


if __name__ == "__main__":
    main()
