from __future__ import annotations

from typing import Any

import pytest

from shared import config
from shared.config import DatabaseSettings, HttpSettings, PasswordSettings, RecoverySettings, TokenSettings
from shared.errors import ConfigurationError

STRONG = "a-strong-secret-of-sufficient-length-0123456789"


def test_defaults() -> None:
    database = DatabaseSettings.from_env({})
    tokens = TokenSettings.from_env({"JWT_SECRET": "local"})
    passwords = PasswordSettings.from_env({})

    assert database.mongodb_db_name == "emergent_db"
    assert database.mongodb_uri is None
    assert database.mongodb_timeout_ms == 15000
    assert (database.mongodb_ping_timeout_ms, database.ping_timeout_s) == (2000, 2.0)
    assert database.in_lambda is False
    assert tokens.jwt_expire_minutes == 60
    assert (tokens.jwt_issuer, tokens.jwt_audience) == ("prompt-api", "prompt-api")
    assert tokens.refresh_expire_days == 30
    assert tokens.in_lambda is False
    assert database.secrets_max_age == tokens.secrets_max_age == 300
    assert (passwords.bcrypt_rounds, passwords.login_max_failures, passwords.login_window_minutes) == (12, 5, 15)
    assert HttpSettings.from_env({}).cors_allow_origins == ("*",)
    passwords_and_recovery = (passwords.login_max_failures_per_email, RecoverySettings.from_env({}))
    assert passwords_and_recovery[0] == 100
    recovery = passwords_and_recovery[1]
    assert (recovery.password_reset_minutes, recovery.password_reset_max_requests) == (30, 3)
    assert recovery.mail_from is None and recovery.password_reset_url is None


def test_cors_origins_are_a_comma_separated_list() -> None:
    settings = HttpSettings.from_env({"CORS_ALLOW_ORIGINS": "https://a.example, https://b.example,"})

    assert settings.cors_allow_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(
    ("group", "env", "names"),
    [
        (PasswordSettings, {"BCRYPT_ROUNDS": "3"}, "BCRYPT_ROUNDS"),
        (PasswordSettings, {"BCRYPT_ROUNDS": "twelve"}, "BCRYPT_ROUNDS"),
        (PasswordSettings, {"LOGIN_MAX_FAILURES": "0"}, "LOGIN_MAX_FAILURES"),
        (TokenSettings, {"JWT_SECRET": "x", "JWT_EXPIRE_MINUTES": "0"}, "JWT_EXPIRE_MINUTES"),
        (TokenSettings, {"JWT_SECRET": "x", "SECRETS_MAX_AGE": "-1"}, "SECRETS_MAX_AGE"),
        (TokenSettings, {}, "JWT_SECRET_ARN"),
        (TokenSettings, {"AWS_LAMBDA_FUNCTION_NAME": "f", "JWT_SECRET": "changeme"}, "JWT_SECRET"),
        (DatabaseSettings, {"AWS_LAMBDA_FUNCTION_NAME": "f"}, "MONGODB_URI"),
        (DatabaseSettings, {"MONGODB_TIMEOUT_MS": "10"}, "MONGODB_TIMEOUT_MS"),
        (DatabaseSettings, {"MONGODB_PING_TIMEOUT_MS": "-1"}, "MONGODB_PING_TIMEOUT_MS"),
        (DatabaseSettings, {"MONGODB_PING_TIMEOUT_MS": "abc"}, "MONGODB_PING_TIMEOUT_MS"),
        (RecoverySettings, {"PASSWORD_RESET_MINUTES": "1"}, "PASSWORD_RESET_MINUTES"),
        (RecoverySettings, {"PASSWORD_RESET_MAX_REQUESTS": "0"}, "PASSWORD_RESET_MAX_REQUESTS"),
        (RecoverySettings, {"PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS": "0"}, "PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS"),
        (PasswordSettings, {"LOGIN_MAX_FAILURES_PER_EMAIL": "many"}, "LOGIN_MAX_FAILURES_PER_EMAIL"),
    ],
)
def test_bad_configuration_names_the_variable(group: Any, env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigurationError, match=names):
        group.from_env(env)


def test_a_ping_never_waits_longer_than_a_requests_server_selection() -> None:
    shorter_ping = DatabaseSettings.from_env({"MONGODB_PING_TIMEOUT_MS": "500"})
    shorter_selection = DatabaseSettings.from_env({"MONGODB_TIMEOUT_MS": "800"})

    assert (shorter_ping.ping_timeout_s, shorter_selection.ping_timeout_s) == (0.5, 0.8)


def test_inside_lambda_a_strong_secret_and_a_database_are_enough() -> None:
    env = {"AWS_LAMBDA_FUNCTION_NAME": "f", "MONGODB_URI_SECRET_ARN": "arn", "JWT_SECRET": STRONG}

    assert DatabaseSettings.from_env(env).in_lambda is True
    assert TokenSettings.from_env(env).in_lambda is True


def test_outside_lambda_a_short_local_secret_is_accepted() -> None:
    assert TokenSettings.from_env({"JWT_SECRET": "dev"}).jwt_secret == "dev"


def test_each_secret_is_required_only_by_its_own_group() -> None:
    in_lambda = {"AWS_LAMBDA_FUNCTION_NAME": "f"}

    # No JWT secret: only the token settings refuse; no database inside Lambda: only the database settings.
    assert DatabaseSettings.from_env({**in_lambda, "MONGODB_URI": "mongodb://h"}).mongodb_uri == "mongodb://h"
    assert PasswordSettings.from_env(in_lambda).bcrypt_rounds == 12
    assert HttpSettings.from_env(in_lambda).cors_allow_origins == ("*",)
    assert TokenSettings.from_env({**in_lambda, "JWT_SECRET": STRONG}).jwt_secret == STRONG


def test_every_field_declares_the_variable_it_is_read_from() -> None:
    for group in config.GROUPS:
        assert group.fields, group.__name__
        for f in group.fields:
            assert f.variable.isupper(), (group.__name__, f.name)


def test_variables_lists_every_variable_each_group_reads_once() -> None:
    assert len(config.VARIABLES) == len(set(config.VARIABLES))
    assert set(config.VARIABLES) == {name for group in config.GROUPS for name in config.variables_of(group)}
    assert {"JWT_AUDIENCE", "LOGIN_MAX_FAILURES", "SECRETS_MAX_AGE"} <= set(config.VARIABLES)
    assert "AWS_LAMBDA_FUNCTION_NAME" in config.VARIABLES


@pytest.mark.parametrize("group", config.GROUPS)
def test_a_group_reads_only_the_variables_it_declares(group: Any) -> None:
    """Every variable a group reads is in VARIABLES: an environment that sets everything else to
    nonsense changes nothing."""

    class Recording(dict[str, str]):
        def get(self, key: str, default: Any = None) -> Any:
            read.add(key)
            return super().get(key, default)

    read: set[str] = set()
    group.from_env(Recording({"JWT_SECRET": "x"}))

    assert read <= set(config.variables_of(group))


def test_each_group_is_read_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    first = config.password_settings()
    monkeypatch.setenv("BCRYPT_ROUNDS", "5")

    assert config.password_settings() is first
    config.clear_caches()
    assert config.password_settings().bcrypt_rounds == 5


def test_a_group_never_changes_once_read_and_compares_by_value() -> None:
    settings = PasswordSettings.from_env({"BCRYPT_ROUNDS": "11"})

    with pytest.raises(AttributeError, match="never changed"):
        settings.bcrypt_rounds = 4  # type: ignore[misc]
    assert settings == PasswordSettings.from_env({"BCRYPT_ROUNDS": "11"})
    assert settings != PasswordSettings.from_env({})
    assert hash(settings) == hash(PasswordSettings.from_env({"BCRYPT_ROUNDS": "11"}))
    assert repr(settings).startswith("PasswordSettings(bcrypt_rounds=11, login_max_failures=5")
