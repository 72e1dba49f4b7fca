"""What the local API costs: start-up time, per-request overhead, requests per second.

Measured in one run:

- start: from starting ``python -m local_api`` to the first 200 on ``GET /api/health``
  (median of fresh processes; goal < 1 s);
- overhead: the median time of a request through the tool minus the median time of calling
  the same handler directly, in-process, with an equivalent event (goal < 2 ms). Measured twice:
  in-process through the gateway (routing, event, reload check, lock: the tool's own work) and
  over HTTP on loopback (adds the socket, the HTTP parsing and a minimal client);
- throughput: requests per second over HTTP for ``GET /api/health`` and an authorized
  ``GET /api/prompts`` (4 keep-alive connections).

    .venv/bin/python -m benchmarks.local_api [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local_api.harness import LocalApiProcess

ROOT = Path(__file__).resolve().parent.parent
JWT_SECRET = "benchmark-signing-secret-that-is-long-enough-000"  # noqa: S105 - a throwaway test secret
PASSWORD = "correct horse battery"  # noqa: S105 - a throwaway test password
ENVIRONMENT = {"JWT_SECRET": JWT_SECRET, "BCRYPT_ROUNDS": "4"}


def start_server() -> LocalApiProcess:
    """The local API with a throwaway store, polled often so that start times are measured closely."""
    return LocalApiProcess("--in-memory", env=ENVIRONMENT, poll_interval_s=0.005)


def time_to_first_health() -> float:
    """Seconds from process start to the first 200 on /api/health."""
    server = start_server()
    try:
        return server.wait_until_healthy()
    finally:
        server.stop()


class Client:
    """A minimal keep-alive HTTP client (http.client), so the client costs little of the measure."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.headers = headers or {}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        payload = None if body is None else json.dumps(body)
        headers = {**self.headers, **({"Content-Type": "application/json"} if payload else {})}
        self.connection.request(method, path, body=payload, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None

    def close(self) -> None:
        self.connection.close()


def timings_ms(call: Callable[[], object], count: int) -> list[float]:
    """Each call's duration in milliseconds, after a short warm-up."""
    for _ in range(min(50, count)):
        call()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def requests_per_second(port: int, path: str, headers: dict[str, str], seconds: float, connections: int) -> float:
    """Completed requests per second with ``connections`` keep-alive clients in parallel."""
    stop = time.perf_counter() + seconds
    counts = [0] * connections

    def work(index: int) -> None:
        client = Client(port, headers)
        try:
            while time.perf_counter() < stop:
                status, _ = client.call("GET", path)
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status}")
                counts[index] += 1
        finally:
            client.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def in_process_overhead(count: int) -> tuple[float, float]:
    """Median ms of the health handler called directly, and through the gateway in-process."""
    os.environ.update(ENVIRONMENT)
    from local_api.cli import assemble, parse_args
    from local_api.events import HttpRequest, LocalLambdaContext, Stage, proxy_event

    api = assemble(parse_args(["--in-memory", "--port", "0", "--template", str(ROOT / "template.yaml")]))
    try:
        gateway = api.server.gateway
        request = HttpRequest("GET", "/api/health", "", [("Host", "127.0.0.1"), ("Accept", "*/*")], b"", "127.0.0.1")
        assert gateway.handle(request).response.status == 200  # loads the function, installs the store
        function = api.application.functions["HealthFunction"]
        handler = gateway.runtime.handler(function.logical_id)
        stage = Stage("local", "prod", "us-east-1", "123456789012")
        event = proxy_event(request, resource="/api/health", path_params={}, stage=stage, request_id="bench")

        def direct() -> None:
            context = LocalLambdaContext(function, region="us-east-1", account_id="123456789012")
            assert handler(event, context)["statusCode"] == 200

        direct_ms = statistics.median(timings_ms(direct, count))
        gateway_ms = statistics.median(timings_ms(lambda: gateway.handle(request), count))
    finally:
        api.server.server_close()
    return direct_ms, gateway_ms


def prepare_user(port: int, prompts: int) -> dict[str, str]:
    """A registered user with ``prompts`` prompts; the Authorization header for them."""
    client = Client(port)
    email = f"bench-{time.time_ns()}@example.com"
    status, _ = client.call("POST", "/api/register", {"email": email, "username": "bench", "password": PASSWORD})
    assert status == 201, status
    status, token = client.call("POST", "/api/login", {"email": email, "password": PASSWORD})
    assert status == 200, status
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    authed = Client(port, headers)
    for i in range(prompts):
        assert authed.call("POST", "/api/prompts", {"content": f"prompt {i}"})[0] == 201
    client.close()
    authed.close()
    return headers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    args = parser.parse_args()
    starts, count, seconds = (2, 200, 1.0) if args.quick else (5, 1000, 3.0)

    time_to_first_health()  # warm-up: bytecode caches, as on any second start
    start_s = [time_to_first_health() for _ in range(starts)]

    direct_ms, gateway_ms = in_process_overhead(count)

    server = start_server()
    try:
        server.wait_until_healthy()
        port = server.port
        health = Client(port)
        http_ms = statistics.median(timings_ms(lambda: health.call("GET", "/api/health"), count))
        health.close()
        headers = prepare_user(port, prompts=20)
        health_rps = requests_per_second(port, "/api/health", {}, seconds, connections=4)
        prompts_rps = requests_per_second(port, "/api/prompts?limit=20", headers, seconds, connections=4)
    finally:
        server.stop()

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, embedded store (--in-memory)")
    print(
        f"start to first 200 on /api/health   median {statistics.median(start_s) * 1000:7.0f} ms"
        f"   (min {min(start_s) * 1000:.0f}, max {max(start_s) * 1000:.0f}, {starts} starts; goal < 1000)"
    )
    print(f"GET /api/health, handler called directly       median {direct_ms:7.3f} ms")
    print(
        f"GET /api/health, through the gateway in-process median {gateway_ms:7.3f} ms"
        f"   overhead {gateway_ms - direct_ms:6.3f} ms (goal < 2)"
    )
    print(
        f"GET /api/health, over HTTP (loopback)           median {http_ms:7.3f} ms"
        f"   overhead {http_ms - direct_ms:6.3f} ms (goal < 2)"
    )
    print(f"throughput GET /api/health                      {health_rps:7.0f} req/s (4 connections)")
    print(f"throughput GET /api/prompts?limit=20, bearer    {prompts_rps:7.0f} req/s (4 connections)")


if __name__ == "__main__":
    main()
