"""What a user feels on a cold container: each function's init and first invoke, against the seed's monolith.

Everything runs on python3.13 (the Lambda runtime's version), found as ``make build`` finds it
(``layers/find-python313.sh``), whatever Python starts this script. Two throwaway installs, cached
under ``.bench/`` by the hash of their requirements and never in .venv, both byte-compiled as the
layer build does (``compileall --invalidation-mode unchecked-hash``):

- the layer: ``layers/shared/requirements.txt`` plus what the runtime provides (boto3, and
  snapshot-restore-py for SnapStart's hooks), and a copy of ``shared/`` compiled the same way on every
  run (it changes often);
- the baseline: ``benchmarks/seed_requirements.txt`` for ``benchmarks/seed_app.py``, the seed's
  FastAPI + Motor monolith behind Mangum.

Targets: every ``functions/*/app.py`` that serves requests (the authorizer is the one whose fixture is a
TOKEN event; protected functions are those whose fixture carries an authorizer context; a custom
resource's function, whose fixture is CloudFormation's request, is left out) and the monolith. Each
sample is a fresh ``python3.13 -s -P`` process with only the installs on PYTHONPATH (``-P``: not the
temporary directory it runs in either, where anything named like a package would be imported first) and
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
ratios against the monolith's median import, each goal said met or not.

The journey: what a new user's first five requests cost right after a deploy or a scale-out
(``JOURNEY``: register, log in, create a prompt, list prompts, get me), each on a cold container.
On the functions' side that is each of the five functions' import and first invoke (the table's
samples) plus the authorizer's once (API Gateway caches its answer for the three protected calls),
the authorizer sampled apart with a token it accepts, so that it goes as far as the session lookup.
On the monolith's side, one fresh process: its import, then the same five fixtures in that order (the
first is its cold start's first invoke, the others run warm). No request does I/O: each goes as far
as its first database access, which fails at once (the functions have no database; the monolith's
URI cannot make a client, ``SEED_JOURNEY_ENV``), so the figure leaves out every database round trip,
the TLS handshake and the secret reads a real first request pays on either side.

Last, the warm overhead in one process: the same request (``POST /api/status`` with body ``{}``, a
422: no bcrypt, no database) sent many times to create_status_check's handler and to the monolith's,
median per request.

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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench"
LAYER_REQUIREMENTS = ROOT / "layers" / "shared" / "requirements.txt"
SEED_REQUIREMENTS = ROOT / "benchmarks" / "seed_requirements.txt"
SEED_APP = ROOT / "benchmarks" / "seed_app.py"
SEED = "seed monolith"
RUNTIME_PROVIDED = ("boto3", "snapshot-restore-py")
"""What Lambda's python3.13 runtime puts on the path beside the layer, installed with it here."""
GOALS = {"authorizer": 0.45, "slowest route function": 0.55, "authorizer + slowest protected": 0.90}
JOURNEY = ("register", "login", "create_prompt", "list_prompts", "me")
"""A new user's first five requests: the functions (and fixtures) they reach, in order."""
JOURNEY_AUTHORIZER = "authorizer (journey)"
WARM_GOAL_MS = 0.3

ENV = {
    "JWT_SECRET": "benchmark-signing-secret-0123456789abcdef",
    "BCRYPT_ROUNDS": "4",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "prompt-api",
}
SEED_ENV = {"MONGODB_URI": "mongodb://127.0.0.1:9/", "MONGODB_TIMEOUT_MS": "1"}
SEED_JOURNEY_ENV = {"MONGODB_URI": "invalid://no-database"}
"""A URI Motor refuses at once: the monolith's first database access in each request fails without I/O."""
SEED_JOURNEY = "seed monolith (journey)"

# Runs in the measured process: argv is the handler file, a mode ("first", "journey" or "warm:<count>"),
# then the event files.
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

def timed(event):
    started = time.perf_counter()
    status = call(event)
    return (time.perf_counter() - started) * 1000, status

started = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
imported = time.perf_counter()
mode = sys.argv[2]
events = []
for name in sys.argv[3:]:
    with open(name) as f:
        events.append(json.load(f))
if mode.startswith("warm:"):
    event = events[0]
    event["body"] = "{}"
    for _ in range(50):
        status = call(event)
    times = sorted(timed(event)[0] for _ in range(int(mode.removeprefix("warm:"))))
    print("RESULT", json.dumps({"warm_ms": times[len(times) // 2], "status": status}))
else:
    answers = [timed(event) for event in events]
    print("RESULT", json.dumps({"import_ms": (imported - started) * 1000, "invoke_ms": answers[0][0],
                                "invokes_ms": [ms for ms, _ in answers], "status": answers[0][1],
                                "statuses": [status for _, status in answers]}))
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


Target = tuple[Path, str, list[Path], list[Path], dict[str, str]]
"""A measured process: the handler file, the probe's mode, the event files, PYTHONPATH and the environment."""


def run_probe(
    python: Path, handler: Path, mode: str, events: list[Path], path: list[Path], env: dict[str, str]
) -> dict:
    """One fresh process: import ``handler``, then invoke it with ``events`` as ``mode`` says; its RESULT line."""
    child_env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(map(str, path)),
        "PYTHONDONTWRITEBYTECODE": "1",
        **ENV,
        **env,
    }
    out = subprocess.run(
        [python, "-s", "-P", "-c", PROBE, str(handler), mode, *map(str, events)],
        capture_output=True,
        text=True,
        env=child_env,
        cwd=tempfile.gettempdir(),
    )
    results = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not results:
        sys.exit(f"{handler} failed:\n{out.stderr[-2000:]}")
    return json.loads(results[-1].removeprefix("RESULT "))


def journey_token_event(folder: Path) -> Path:
    """The authorizer's fixture with a token it accepts (signed with the benchmark's secret), so that its
    first invoke goes as far as the session lookup, as a new user's first protected request does."""
    from shared.accounts.access_tokens import create_access_token
    from shared.config import TokenSettings

    settings = TokenSettings.from_env(ENV)
    assert settings.jwt_secret is not None
    token = create_access_token(
        subject="0b5f4c1e-8c1e-4a55-9e39-3f6f8f0b8a10",
        session_id="019ac5e0-7a2b-7c3d-8e4f-5a6b7c8d9e0f",
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        expires_minutes=settings.jwt_expire_minutes,
    )
    event = json.loads((ROOT / "events" / "authorizer.json").read_text())
    event["authorizationToken"] = f"Bearer {token}"
    path = folder / "authorizer-journey.json"
    path.write_text(json.dumps(event))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="interleaved rounds (default 9)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds, fewer warm requests")
    args = parser.parse_args()
    runs, warm_requests = (2, 200) if args.quick else (args.runs, 2000)

    python = find_python313()
    layer_deps = install(python, "layer", LAYER_REQUIREMENTS, *RUNTIME_PROVIDED)
    seed_deps = install(python, "seed", SEED_REQUIREMENTS)
    with tempfile.TemporaryDirectory() as tmp:
        layer = Path(tmp) / "layer"
        shutil.copytree(ROOT / "shared", layer / "shared", ignore=shutil.ignore_patterns("__pycache__"))
        compile_tree(python, layer)
        on_layer = [layer, layer_deps]

        targets: dict[str, Target] = {SEED: (SEED_APP, "first", [ROOT / "events" / "me.json"], [seed_deps], SEED_ENV)}
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
            targets[name] = (handler, "first", [event], on_layer, {})
        authorizer = next(name for name, kind in kinds.items() if kind == "authorizer")
        targets[JOURNEY_AUTHORIZER] = (targets[authorizer][0], "first", [journey_token_event(Path(tmp))], on_layer, {})
        journey_events = [ROOT / "events" / f"{name}.json" for name in JOURNEY]
        targets[SEED_JOURNEY] = (SEED_APP, "journey", journey_events, [seed_deps], SEED_JOURNEY_ENV)

        samples: dict[str, list[dict]] = {name: [] for name in targets}
        order = list(targets)
        for round_number in range(runs + 1):  # round 0 only warms the file cache
            random.shuffle(order)
            for name in order:
                result = run_probe(python, *targets[name])
                if round_number:
                    samples[name].append(result)
            print(f"round {round_number}/{runs} done", file=sys.stderr)

        status_event = [ROOT / "events" / "create_status_check.json"]
        warm = f"warm:{warm_requests}"
        warm_project = run_probe(python, targets["create_status_check"][0], warm, status_event, on_layer, {})
        warm_seed = run_probe(python, SEED_APP, warm, status_event, [seed_deps], SEED_ENV)

    events = {name: target[2][0].stem for name, target in targets.items()}
    report(python, runs, samples, kinds, events, warm_project, warm_seed)


def report(
    python: Path, runs: int, samples: dict[str, list[dict]], kinds: dict[str, str], events: dict[str, str], *warm: dict
) -> None:
    """The table, the goal ratios (sums of medians for the composite), the journey and the warm overhead."""

    def median(name: str, key: str) -> float:
        return statistics.median(sample[key] for sample in samples[name])

    def cold(name: str) -> float:
        return median(name, "import_ms") + median(name, "invoke_ms")

    base = median(SEED, "import_ms")
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True
    )
    print(f"\nPython {version.stdout.strip()} ({python}), {runs} interleaved rounds of fresh processes, medians")
    print(f"{'target':<22}{'import ms':>10}{'x seed':>8}{'first invoke ms':>17}  fixture: status")
    for name in [SEED, *kinds]:
        statuses = ",".join(sorted({str(sample["status"]) for sample in samples[name]}))
        ms, invoke_ms = median(name, "import_ms"), median(name, "invoke_ms")
        print(f"{name:<22}{ms:>10.1f}{ms / base:>8.2f}{invoke_ms:>17.1f}  {events[name]}: {statuses}")

    not_routes = ("authorizer", "scheduled")
    routes = {name: median(name, "import_ms") for name, kind in kinds.items() if kind not in not_routes}
    protected = {name: ms for name, ms in routes.items() if kinds[name] == "protected"}
    authorizer = next(name for name, kind in kinds.items() if kind == "authorizer")
    authorizer_ms = median(authorizer, "import_ms")
    slowest = max(routes, key=routes.__getitem__)
    slowest_protected = max(protected, key=protected.__getitem__)
    both = authorizer_ms + protected[slowest_protected]
    rows = [
        ("authorizer", authorizer, authorizer_ms),
        ("slowest route function", slowest, routes[slowest]),
        ("authorizer + slowest protected", f"{authorizer} + {slowest_protected}", both),
    ]
    print(f"\nagainst the seed monolith's import ({base:.1f} ms):")
    for label, detail, ms in rows:
        met = "met" if ms / base <= GOALS[label] else "NOT MET"
        print(f"  {label:<32}{ms:>8.1f} ms {ms / base:>6.2f}x  (goal <= {GOALS[label]:.2f}x: {met})  {detail}")
    felt = cold(authorizer) + cold(slowest_protected)
    seed_felt = base + median(SEED, "invoke_ms")
    print(
        f"  {'with both first invokes':<32}{felt:>8.1f} ms {felt / seed_felt:>6.2f}x  "
        f"of the monolith's import + first invoke ({seed_felt:.1f} ms)"
    )
    report_journey(samples, median, cold)
    project, seed = warm
    print(
        f"warm request, in process (POST /api/status {{}} -> {project['status']}/{seed['status']}): "
        f"create_status_check {project['warm_ms']:.3f} ms (goal <= {WARM_GOAL_MS} ms), "
        f"seed monolith {seed['warm_ms']:.3f} ms"
    )


def report_journey(
    samples: dict[str, list[dict]], median: Callable[[str, str], float], cold: Callable[[str], float]
) -> None:
    """A new user's first five requests, each cold: sums of medians on both sides."""
    seed_steps = [statistics.median(sample["invokes_ms"][i] for sample in samples[SEED_JOURNEY]) for i in range(5)]
    seed_statuses = ",".join(sorted({str(status) for sample in samples[SEED_JOURNEY] for status in sample["statuses"]}))
    steps: list[tuple[str, float, float]] = [("", 0.0, median(SEED_JOURNEY, "import_ms"))]
    for i, name in enumerate(JOURNEY):
        if name == "create_prompt":  # the first protected request: the authorizer runs, once
            steps.append((JOURNEY_AUTHORIZER, cold(JOURNEY_AUTHORIZER), 0.0))
        steps.append((name, cold(name), seed_steps[i]))
    functions, seed = sum(step[1] for step in steps), sum(step[2] for step in steps)
    authorizer_status = ",".join(sorted({str(sample["status"]) for sample in samples[JOURNEY_AUTHORIZER]}))
    print(
        "\na new user's first five requests right after a deploy, each on a cold container (no I/O: each "
        "request\ngoes as far as its first database access, which fails at once; round trips, TLS and secret "
        "reads not included):"
    )
    print(f"  {'':<22}{'functions: init + first invoke ms':>36}{'seed monolith ms':>19}")
    print(f"  {'seed monolith init':<22}{'':>36}{steps[0][2]:>19.1f}")
    for name, ms, seed_ms in steps[1:]:
        print(f"  {name:<22}{ms:>36.1f}{(f'{seed_ms:.1f}' if seed_ms else ''):>19}")
    print(
        f"  {'total':<22}{functions:>36.1f}{seed:>19.1f}   {functions / seed:.2f}x the monolith's one cold start "
        f"and five requests\n  (statuses: authorizer {authorizer_status}, monolith {seed_statuses})"
    )


if __name__ == "__main__":
    main()
