"""Does the time to answer tell registered emails apart? Known vs unknown (and inactive) emails at
``POST /api/login`` and ``POST /api/password/forgot``, an account still holding a hash of an older,
cheaper bcrypt cost, and the 409s of ``POST /api/register`` for a taken email (a wrong password for an
account the replay could answer, another username, an account older than the replay's 24 hours), all
measured through the handlers in one run.

One process, the tests' set-up: the embedded store (mongomock) installed through
``shared.data.client.use_client``, SES faked by moto (the sender's domain verified, so the known email's
mail is really handed over), ``BCRYPT_ROUNDS=10`` (the cost of the issue's report; production uses 12).
The limits are raised and the counts cleared each round so that nothing is throttled. Rounds interleave
the cases in a shuffled order after one unrecorded round; medians and the 10th-90th percentile range.

Moto's send is in-process CPU work, where SES's is a network wait: ``--send-ms 40`` installs instead (through
``shared.mail.mailer.use_mailer``) a mailer that waits that long, as a call to SES from Lambda does.

    .venv/bin/python -m benchmarks.password_timing [--rounds 30] [--send-ms 40]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable

ROUNDS = 30
OLD_COST = 4

_ENV = {
    "BCRYPT_ROUNDS": "10",
    "JWT_SECRET": "benchmark-signing-secret-that-is-long-enough-0123",
    "LOGIN_MAX_FAILURES": "100",
    "LOGIN_MAX_FAILURES_PER_EMAIL": "100000",
    "PASSWORD_RESET_MAX_REQUESTS": "100",
    "MAIL_FROM": "no-reply@prompt-api.test",
    "PASSWORD_RESET_URL": "https://app.prompt-api.test/reset-password",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    deciles = statistics.quantiles(samples, n=10)
    return statistics.median(samples), deciles[0], deciles[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.password_timing")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--send-ms", type=float, default=None, help="a mailer that waits this long instead of moto's")
    args = parser.parse_args(argv)
    for name in ("MONGODB_URI", "MONGODB_URI_SECRET_ARN", "AWS_LAMBDA_FUNCTION_NAME"):
        os.environ.pop(name, None)
    os.environ.update(_ENV)

    from datetime import UTC, datetime, timedelta

    import bcrypt
    import boto3
    import mongomock
    from moto import mock_aws

    from shared import config
    from shared.data import client as db
    from shared.data.indexes import ensure_indexes
    from tests.support import FakeContext, api_event, load_function

    config.clear_caches()
    store = mongomock.MongoClient(tz_aware=True)
    ensure_indexes(store[config.DEFAULT_DB_NAME])
    db.use_client(store)
    database = db.get_database()
    if args.send_ms is not None:
        from shared.mail.mailer import use_mailer

        class WaitingMailer:
            def send(self, *, sender: str, to: str, subject: str, text: str) -> None:
                time.sleep(args.send_ms / 1000)

        use_mailer(WaitingMailer())

    with mock_aws():
        boto3.client("ses").verify_domain_identity(Domain="prompt-api.test")
        login, forgot, register = (load_function(n) for n in ("login", "forgot_password", "register"))
        context = FakeContext()

        def call(module: object, route: str, body: dict[str, str]) -> int:
            status: int = module.lambda_handler(api_event(route, body=body), context)["statusCode"]  # type: ignore[attr-defined]
            return status

        password = "correct horse battery"  # noqa: S105 - the benchmark accounts' password
        for address in ("known@example.com", "old@example.com", "inactive@example.com", "aged@example.com"):
            assert call(register, "register", {"email": address, "username": "u", "password": password}) == 201
        old_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=OLD_COST)).decode()
        database.users.update_one({"email": "old@example.com"}, {"$set": {"hashed_password": old_hash}})
        database.users.update_one({"email": "inactive@example.com"}, {"$set": {"is_active": False}})
        registered_long_ago = datetime.now(UTC) - timedelta(hours=25)
        database.users.update_one({"email": "aged@example.com"}, {"$set": {"created_at": registered_long_ago}})

        def login_case(address: str) -> Callable[[], int]:
            return lambda: call(login, "login", {"email": address, "password": "wrong password"})

        def forgot_case(address: str) -> Callable[[], int]:
            return lambda: call(forgot, "forgot_password", {"email": address})

        def register_case(address: str, username: str, given: str) -> Callable[[], int]:
            return lambda: call(register, "register", {"email": address, "username": username, "password": given})

        cases: dict[str, tuple[Callable[[], int], int]] = {
            "login, unknown email": (login_case("nobody@example.com"), 401),
            "login, known email (cost 10), wrong password": (login_case("known@example.com"), 401),
            f"login, known email (old cost {OLD_COST}), wrong password": (login_case("old@example.com"), 401),
            "forgot, unknown email": (forgot_case("nobody@example.com"), 202),
            "forgot, known email (mail sent)": (forgot_case("known@example.com"), 202),
            "forgot, inactive email": (forgot_case("inactive@example.com"), 202),
            "register 409, wrong password (account under 24 h)": (
                register_case("known@example.com", "u", "wrong password"),
                409,
            ),
            "register 409, another username": (register_case("known@example.com", "someone", password), 409),
            "register 409, account older than 24 h": (register_case("aged@example.com", "u", password), 409),
        }
        old_check = bcrypt.hashpw(b"x", bcrypt.gensalt(rounds=OLD_COST))
        samples: dict[str, list[float]] = {name: [] for name in cases}
        samples[f"(bcrypt check at cost {OLD_COST} alone: what the old code spent)"] = []
        for round_number in range(args.rounds + 1):
            order = list(cases)
            random.shuffle(order)
            for name in order:
                database.login_attempts.delete_many({})
                database.reset_requests.delete_many({})
                run, expected = cases[name]
                started = time.perf_counter()
                status = run()
                elapsed = (time.perf_counter() - started) * 1000
                assert status == expected, (name, status)
                if round_number:
                    samples[name].append(elapsed)
            started = time.perf_counter()
            bcrypt.checkpw(b"y", old_check)
            if round_number:
                samples[f"(bcrypt check at cost {OLD_COST} alone: what the old code spent)"].append(
                    (time.perf_counter() - started) * 1000
                )

    mail = "moto's SES" if args.send_ms is None else f"a mailer waiting {args.send_ms:g} ms"
    print(f"BCRYPT_ROUNDS=10, {mail}, {args.rounds} rounds, ms through the handler: median (p10-p90)")
    for name, values in samples.items():
        median, low, high = _percentiles(values)
        print(f"  {name:<62} {median:7.1f}  ({low:.1f}-{high:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
