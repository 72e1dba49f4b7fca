"""What a user feels on a cold container: each function's init and first invoke, against the seed's monolith.

Everything runs on python3.13 (the Lambda runtime's version), found as ``make build`` finds it
(``layers/find-python313.sh``), whatever Python starts this script. Two throwaway installs, cached
under ``.bench/`` by the hash of their requirements and never in .venv, both byte-compiled as the
layer build does (``compileall --invalidation-mode unchecked-hash``):

- the layer: ``layers/shared/requirements.txt`` plus boto3 (the runtime provides it), and a copy of
  ``shared/`` compiled the same way on every run (it changes often);
- the baseline: ``benchmarks/seed_requirements.txt`` for ``benchmarks/seed_app.py``, the seed's
  FastAPI + Motor monolith behind Mangum.

Targets: every ``functions/*/app.py`` that serves requests (the authorizer is the one whose fixture is a
TOKEN event; protected functions are those whose fixture carries an authorizer context; a custom
resource's function, whose fixture is CloudFormation's request, is left out) and the monolith. Each
sample is a fresh ``python3.13 -s`` process with only the installs on PYTHONPATH and
PYTHONDONTWRITEBYTECODE=1; the handler module is loaded from source, as Lambda loads function code.

- import ms: executing the handler module (the Lambda init phase);
- first invoke ms: the handler's first call with its ``events/<route>.json`` fixture, answered
  without I/O on both sides. The functions run with no database configured, so the first database
  access is an immediate 503 (the authorizer refuses its fixture's placeholder token before any
  lookup). The monolith answers the me fixture (``GET /api/me``): routing, its bearer and database
  dependencies (the Motor client is created, lazily, here) and a 401 for that token. A request that
  reaches Motor is no use: pymongo waits about 0.5 s for a closed port even at
  serverSelectionTimeoutMS=1. Compare the me rows.

Rounds interleave the targets in a shuffled order, after one unrecorded round; medians, and
ratios against the monolith's median import. Last, the warm overhead in one process: the same
request (``POST /api/status`` with body ``{}``, a 422: no bcrypt, no database) sent many times to
create_status_check's handler and to the monolith's, median per request.

    .venv/bin/python -m benchmarks.cold_start [--runs 9] [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench"
LAYER_REQUIREMENTS = ROOT / "layers" / "shared" / "requirements.txt"
SEED_REQUIREMENTS = ROOT / "benchmarks" / "seed_requirements.txt"
SEED_APP = ROOT / "benchmarks" / "seed_app.py"
SEED = "seed monolith"
GOALS = {"authorizer": 0.45, "slowest route function": 0.55, "authorizer + slowest protected": 1.0}
WARM_GOAL_MS = 0.3

ENV = {
    "JWT_SECRET": "benchmark-signing-secret-0123456789abcdef",
    "BCRYPT_ROUNDS": "4",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "prompt-api",
}
SEED_ENV = {"MONGODB_URI": "mongodb://127.0.0.1:9/", "MONGODB_TIMEOUT_MS": "1"}

# Runs in the measured process: argv is the handler file, then the event file (and a count for --warm).
PROBE = """
import importlib.util, json, sys, time

class Context:
    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 1024
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    log_group_name = log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 30000

def call(event):
    try:
        result = module.lambda_handler(event, Context())
    except Exception as e:
        return type(e).__name__
    return result.get("statusCode", "ok")

started = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
imported = time.perf_counter()
with open(sys.argv[2]) as f:
    event = json.load(f)
if len(sys.argv) > 3:
    event["body"] = "{}"
    for _ in range(50):
        status = call(event)
    times = []
    for _ in range(int(sys.argv[3])):
        started = time.perf_counter()
        call(event)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print("RESULT", json.dumps({"warm_ms": times[len(times) // 2], "status": status}))
else:
    started_invoke = time.perf_counter()
    status = call(event)
    done = time.perf_counter()
    print("RESULT", json.dumps({"import_ms": (imported - started) * 1000,
                                "invoke_ms": (done - started_invoke) * 1000, "status": status}))
"""


def find_python313() -> Path:
    """The python3.13 that ``make build`` would use; exit with the finder's reason when there is none."""
    found = subprocess.run([str(ROOT / "layers" / "find-python313.sh")], capture_output=True, text=True)
    if found.returncode != 0:
        sys.exit(f"benchmarks.cold_start needs python3.13 (Lambda's runtime): {found.stderr.strip()}")
    return Path(found.stdout.strip()) / "python3.13"


def compile_tree(python: Path, folder: Path) -> None:
    """Byte-compile as the layer build does: bytecode trusted without checking the source."""
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(folder)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def install(python: Path, name: str, requirements: Path, *extra: str) -> Path:
    """``pip install --target`` into .bench/<name>-<hash>, compiled; reused while the inputs are the same."""
    version = subprocess.run([python, "-VV"], capture_output=True, text=True, check=True).stdout
    key = hashlib.sha256("\n".join([version, requirements.read_text(), *extra]).encode()).hexdigest()[:12]
    target = CACHE / f"{name}-{key}"
    if (target / ".complete").exists():
        return target
    print(f"installing {requirements.relative_to(ROOT)} {' '.join(extra)} into {target.relative_to(ROOT)}")
    shutil.rmtree(target, ignore_errors=True)
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    subprocess.run([*pip, "--target", str(target), "-r", str(requirements), *extra], check=True)
    shutil.rmtree(target / "bin", ignore_errors=True)
    compile_tree(python, target)
    (target / ".complete").touch()
    return target


def run_probe(python: Path, handler: Path, event: Path, path: list[Path], env: dict[str, str], *warm: str) -> dict:
    """One fresh process: import ``handler``, then invoke it with ``event``; its RESULT line."""
    child_env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(map(str, path)),
        "PYTHONDONTWRITEBYTECODE": "1",
        **ENV,
        **env,
    }
    out = subprocess.run(
        [python, "-s", "-c", PROBE, str(handler), str(event), *warm],
        capture_output=True,
        text=True,
        env=child_env,
        cwd=tempfile.gettempdir(),
    )
    results = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not results:
        sys.exit(f"{handler} failed:\n{out.stderr[-2000:]}")
    return json.loads(results[-1].removeprefix("RESULT "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="interleaved rounds (default 9)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds, fewer warm requests")
    args = parser.parse_args()
    runs, warm_requests = (2, 200) if args.quick else (args.runs, 2000)

    python = find_python313()
    layer_deps = install(python, "layer", LAYER_REQUIREMENTS, "boto3")
    seed_deps = install(python, "seed", SEED_REQUIREMENTS)
    with tempfile.TemporaryDirectory() as tmp:
        layer = Path(tmp)
        shutil.copytree(ROOT / "shared", layer / "shared", ignore=shutil.ignore_patterns("__pycache__"))
        compile_tree(python, layer)

        targets: dict[str, tuple[Path, Path, list[Path], dict[str, str]]] = {
            SEED: (SEED_APP, ROOT / "events" / "me.json", [seed_deps], SEED_ENV)
        }
        kinds: dict[str, str] = {}
        for handler in sorted((ROOT / "functions").glob("*/app.py")):
            name = handler.parent.name
            event = ROOT / "events" / f"{name}.json"
            fixture = json.loads(event.read_text())
            if "RequestType" in fixture:
                continue  # a custom resource's function: the deploy calls it, never a user's request
            if fixture.get("type") == "TOKEN":
                kinds[name] = "authorizer"
            elif fixture.get("source") == "aws.events":
                kinds[name] = "scheduled"  # an EventBridge schedule calls it
            else:
                kinds[name] = "protected" if "authorizer" in fixture.get("requestContext", {}) else "public"
            targets[name] = (handler, event, [layer, layer_deps], {})

        samples: dict[str, list[dict]] = {name: [] for name in targets}
        order = list(targets)
        for round_number in range(runs + 1):  # round 0 only warms the file cache
            random.shuffle(order)
            for name in order:
                result = run_probe(python, *targets[name])
                if round_number:
                    samples[name].append(result)
            print(f"round {round_number}/{runs} done", file=sys.stderr)

        status_event = ROOT / "events" / "create_status_check.json"
        count = str(warm_requests)
        warm_project = run_probe(
            python, targets["create_status_check"][0], status_event, [layer, layer_deps], {}, count
        )
        warm_seed = run_probe(python, SEED_APP, status_event, [seed_deps], SEED_ENV, count)

    events = {name: target[1].stem for name, target in targets.items()}
    report(python, runs, samples, kinds, events, warm_project, warm_seed)


def report(
    python: Path, runs: int, samples: dict[str, list[dict]], kinds: dict[str, str], events: dict[str, str], *warm: dict
) -> None:
    """The table, the goal ratios (sums of medians for the composite) and the warm overhead."""

    def median(name: str, key: str) -> float:
        return statistics.median(sample[key] for sample in samples[name])

    base = median(SEED, "import_ms")
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True
    )
    print(f"\nPython {version.stdout.strip()} ({python}), {runs} interleaved rounds of fresh processes, medians")
    print(f"{'target':<22}{'import ms':>10}{'x seed':>8}{'first invoke ms':>17}  fixture: status")
    for name in samples:
        statuses = ",".join(sorted({str(sample["status"]) for sample in samples[name]}))
        ms, invoke_ms = median(name, "import_ms"), median(name, "invoke_ms")
        print(f"{name:<22}{ms:>10.1f}{ms / base:>8.2f}{invoke_ms:>17.1f}  {events[name]}: {statuses}")

    not_routes = ("authorizer", "scheduled")
    routes = {name: median(name, "import_ms") for name, kind in kinds.items() if kind not in not_routes}
    protected = {name: ms for name, ms in routes.items() if kinds[name] == "protected"}
    authorizers = [name for name, kind in kinds.items() if kind == "authorizer"]
    slowest = max(routes, key=routes.__getitem__)
    rows = [("slowest route function", f"{slowest}", routes[slowest])]
    if authorizers:
        authorizer_ms = median(authorizers[0], "import_ms")
        rows.insert(0, ("authorizer", authorizers[0], authorizer_ms))
        if protected:
            slowest_protected = max(protected, key=protected.__getitem__)
            both = authorizer_ms + protected[slowest_protected]
            rows.append(("authorizer + slowest protected", f"{authorizers[0]} + {slowest_protected}", both))
    print(f"\nagainst the seed monolith's import ({base:.1f} ms):")
    for label, detail, ms in rows:
        print(f"  {label:<32}{ms:>8.1f} ms {ms / base:>6.2f}x  (goal <= {GOALS[label]:.2f}x)  {detail}")
    if authorizers and protected:
        felt = sum(
            median(name, key) for name in (authorizers[0], slowest_protected) for key in ("import_ms", "invoke_ms")
        )
        seed_felt = base + median(SEED, "invoke_ms")
        print(
            f"  {'with both first invokes':<32}{felt:>8.1f} ms {felt / seed_felt:>6.2f}x  "
            f"of the monolith's import + first invoke ({seed_felt:.1f} ms)"
        )
    project, seed = warm
    print(
        f"warm request, in process (POST /api/status {{}} -> {project['status']}/{seed['status']}): "
        f"create_status_check {project['warm_ms']:.3f} ms (goal <= {WARM_GOAL_MS} ms), "
        f"seed monolith {seed['warm_ms']:.3f} ms"
    )


if __name__ == "__main__":
    main()
