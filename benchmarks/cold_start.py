"""Cold-start cost of each function: its module's import (the Lambda init phase) in a fresh process.

Baseline, measured in the same run: the smallest Powertools REST function (Logger and an
``APIGatewayRestResolver`` with validation and one route). The ratio says what this project
adds on top of what any Powertools REST function pays. Median of several fresh processes.

    .venv/bin/python -m benchmarks.cold_start [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BASELINE = """
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

logger = Logger()
app = APIGatewayRestResolver(enable_validation=True)


@app.get("/ping")
def ping() -> dict:
    return {"ok": True}


def lambda_handler(event, context):
    return app.resolve(event, context)
"""

PROBE = """
import importlib.util, sys, time
sys.path.insert(0, {root!r})
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
print((time.perf_counter() - started) * 1000)
"""


def init_ms(path: Path) -> float:
    """Milliseconds to import ``path`` as a handler module in a fresh interpreter."""
    env = {**os.environ, "JWT_SECRET": "benchmark-secret"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(root=str(ROOT), path=str(path))],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(paths: dict[str, Path], runs: int) -> dict[str, float]:
    """Median init time per path; rounds interleave the paths so machine noise hits all alike."""
    for path in paths.values():  # warm-up: writes bytecode caches, as a built layer ships them
        init_ms(path)
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(runs):
        for name, path in paths.items():
            samples[name].append(init_ms(path))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        baseline_path = Path(tmp) / "baseline.py"
        baseline_path.write_text(BASELINE)
        paths = {"baseline": baseline_path}
        paths.update(
            (folder.name, folder / "app.py")
            for folder in sorted((ROOT / "functions").iterdir())
            if (folder / "app.py").exists()
        )
        results = measure(paths, args.runs)
    baseline = results.pop("baseline")
    if args.json:
        print(json.dumps({"baseline_ms": baseline, "functions_ms": results}))
        return
    print(f"Python {sys.version.split()[0]}, median of {args.runs} fresh processes")
    print(f"{'function':<22}{'init ms':>10}{'x baseline':>12}")
    print(f"{'(powertools baseline)':<22}{baseline:>10.1f}{1:>12.2f}")
    for name, ms in results.items():
        print(f"{name:<22}{ms:>10.1f}{ms / baseline:>12.2f}")


if __name__ == "__main__":
    main()
