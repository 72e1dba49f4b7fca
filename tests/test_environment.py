"""No variable exported in the shell changes a test's result: the tests and the local API's harness
clear every variable the settings read, taken from the settings themselves (``shared.config.VARIABLES``).

The proof: representative tests, in-process and through a local API child, run in a pytest subprocess
whose environment sets every one of those variables to a hostile value, and still pass.
"""

from __future__ import annotations

import os
import subprocess
import sys

from local_api import harness
from shared import config
from tests.support import CLEARED_VARIABLES, NOT_SETTINGS_VARIABLES, ROOT

# One hostile value per settings variable: a leak of any of them crashes or changes the tests below.
HOSTILE = {
    "AWS_LAMBDA_FUNCTION_NAME": "hostile-function",  # strict checks, and a database required
    "MONGODB_URI": "mongodb://127.0.0.1:1/",  # nothing listens there
    "MONGODB_URI_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hostile",
    "MONGODB_DB_NAME": "hostile_db",
    "MONGODB_TIMEOUT_MS": "soon",
    "MONGODB_PING_TIMEOUT_MS": "soon",
    "SECRETS_MAX_AGE": "forever",
    "JWT_SECRET": "changeme",
    "JWT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hostile-jwt",
    "JWT_EXPIRE_MINUTES": "1",
    "JWT_ISSUER": "other",
    "JWT_AUDIENCE": "other",
    "REFRESH_EXPIRE_DAYS": "2",
    "REFRESH_REUSE_GRACE_SECONDS": "0",
    "PASSWORD_CHANGE_RETRY_SECONDS": "0",
    "BCRYPT_ROUNDS": "twelve",
    "LOGIN_MAX_FAILURES": "1",
    "LOGIN_WINDOW_MINUTES": "1",
    "LOGIN_MAX_FAILURES_PER_EMAIL": "1",
    "MAIL_FROM": "someone@hostile.example",
    "PASSWORD_RESET_URL": "https://hostile.example/reset",
    "PASSWORD_RESET_MINUTES": "5",
    "PASSWORD_RESET_MAX_REQUESTS": "1",
    "PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS": "1",
    "CORS_ALLOW_ORIGINS": "https://hostile.example",
}

# Each reads a settings group and checks what a leak would change: throttling, token claims and
# lifetimes, bcrypt's cost, CORS, the database; the last two through a local API child process.
REPRESENTATIVE_TESTS = (
    "tests/functions/test_forgot_password.py::test_forgot_password_fixture_mails_a_reset_link_to_the_account",
    "tests/functions/test_forgot_password.py::test_past_the_request_limit_it_is_429_alike_for_known_and_unknown",
    "tests/functions/test_login.py::test_login_fixture_returns_bearer_token_for_the_user",
    "tests/functions/test_login.py::test_login_after_max_failures_is_429_the_same_for_known_and_unknown_emails",
    "tests/functions/test_change_password.py::test_change_password_stores_the_new_hash_and_only_the_new_password_logs_in",
    "tests/functions/test_change_password.py::test_change_password_ends_every_session_and_returns_a_working_pair",
    "tests/functions/test_secrets.py::test_login_signs_with_the_secret_from_secrets_manager",
    "tests/functions/test_register.py::test_register_by_default_lets_any_origin_read_its_answer",
    "tests/functions/test_refresh_token.py::test_refresh_retried_within_the_grace_gets_the_same_successor_and_a_new_access_token",
    "tests/functions/test_health.py",
    "tests/integration/test_local_api.py::test_health_reports_ok",
    "tests/integration/test_local_api.py::test_register_login_and_me",
)


def test_every_settings_variable_has_a_hostile_value() -> None:
    assert set(HOSTILE) == set(config.VARIABLES)


def test_the_tests_clear_every_settings_variable_and_the_shells_others() -> None:
    assert (*config.VARIABLES, *NOT_SETTINGS_VARIABLES) == CLEARED_VARIABLES


def test_the_harness_clears_exactly_the_settings_variables() -> None:
    assert harness.CLEARED_VARIABLES == config.VARIABLES
    child = harness.child_environment()
    assert not set(config.VARIABLES) & set(child)


def test_no_exported_settings_variable_changes_a_result() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *REPRESENTATIVE_TESTS],
        cwd=ROOT,
        env={**os.environ, **HOSTILE},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
    assert "skipped" not in result.stdout.splitlines()[-1]
