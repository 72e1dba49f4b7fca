from __future__ import annotations

import pytest

from shared.config import Settings
from shared.errors import ConfigurationError

STRONG = "a-strong-secret-of-sufficient-length-0123456789"


def test_defaults() -> None:
    settings = Settings.from_env({"JWT_SECRET": "local"})

    assert settings.mongodb_db_name == "emergent_db"
    assert settings.jwt_expire_minutes == 60
    assert settings.bcrypt_rounds == 12
    assert settings.cors_allow_origins == ("*",)
    assert settings.mongodb_uri is None
    assert settings.in_lambda is False
    assert settings.login_max_failures_per_email == 100
    assert (settings.password_reset_minutes, settings.password_reset_max_requests) == (30, 3)
    assert settings.mail_from is None and settings.password_reset_url is None


def test_cors_origins_are_a_comma_separated_list() -> None:
    settings = Settings.from_env({"JWT_SECRET": "x", "CORS_ALLOW_ORIGINS": "https://a.example, https://b.example,"})

    assert settings.cors_allow_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"JWT_SECRET": "x", "BCRYPT_ROUNDS": "3"}, "BCRYPT_ROUNDS"),
        ({"JWT_SECRET": "x", "BCRYPT_ROUNDS": "twelve"}, "BCRYPT_ROUNDS"),
        ({"JWT_SECRET": "x", "JWT_EXPIRE_MINUTES": "0"}, "JWT_EXPIRE_MINUTES"),
        ({}, "JWT_SECRET_ARN"),
        ({"JWT_SECRET": "x", "PASSWORD_RESET_MINUTES": "1"}, "PASSWORD_RESET_MINUTES"),
        ({"JWT_SECRET": "x", "PASSWORD_RESET_MAX_REQUESTS": "0"}, "PASSWORD_RESET_MAX_REQUESTS"),
        ({"JWT_SECRET": "x", "LOGIN_MAX_FAILURES_PER_EMAIL": "many"}, "LOGIN_MAX_FAILURES_PER_EMAIL"),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f", "JWT_SECRET": STRONG}, "MONGODB_URI"),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f", "MONGODB_URI": "mongodb://h", "JWT_SECRET": "changeme"}, "JWT_SECRET"),
    ],
)
def test_bad_configuration_names_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigurationError, match=names):
        Settings.from_env(env)


def test_inside_lambda_a_strong_secret_and_a_database_are_enough() -> None:
    settings = Settings.from_env(
        {"AWS_LAMBDA_FUNCTION_NAME": "f", "MONGODB_URI_SECRET_ARN": "arn", "JWT_SECRET": STRONG}
    )

    assert settings.in_lambda is True


def test_outside_lambda_a_short_local_secret_is_accepted() -> None:
    assert Settings.from_env({"JWT_SECRET": "dev"}).jwt_secret == "dev"
