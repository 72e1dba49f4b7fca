"""Typed settings from the environment, built once per container.

Plain values come from environment variables. The two secrets (JWT signing key and
MongoDB URI) may instead come from Secrets Manager through Powertools parameters, which
caches them for ``SECRETS_MAX_AGE`` seconds; boto3 is imported only when that happens.

The JWT secret (``JWT_SECRET`` or the secret at ``JWT_SECRET_ARN``) is either one plain string,
the single signing key, or the JSON object ``{"current": "...", "previous": "..."}``: tokens are
signed with ``current`` and verified with ``current`` or ``previous`` (optional), so the key can be
rotated without logging anyone out. A plain string is the same as ``{"current": "<string>"}``.
Each container caches the value for ``SECRETS_MAX_AGE``, so a rotation is three puts, each after the
previous one reached every container: ``{"current": old, "previous": new}`` (stage), then
``{"current": new, "previous": old}`` (swap), then, once old tokens expired, ``{"current": new}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from shared.errors import ConfigurationError

DEFAULT_DB_NAME = "emergent_db"
MIN_SECRET_LENGTH = 32
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "change_me", "secret", "your-secret-key", "placeholder", "jwt-secret"}
)


def _int(environ: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    return environ.get(name, "").strip() or None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the functions read from their environment."""

    in_lambda: bool
    mongodb_uri: str | None
    mongodb_uri_secret_arn: str | None
    mongodb_db_name: str
    mongodb_timeout_ms: int
    jwt_secret: str | None
    jwt_secret_arn: str | None
    jwt_expire_minutes: int
    jwt_issuer: str
    jwt_audience: str
    bcrypt_rounds: int
    cors_allow_origins: tuple[str, ...]
    secrets_max_age: int
    refresh_expire_days: int
    refresh_reuse_grace_seconds: int
    login_max_failures: int
    login_window_minutes: int
    login_max_failures_per_email: int
    mail_from: str | None
    password_reset_url: str | None
    password_reset_minutes: int
    password_reset_max_requests: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read and check the environment; raise ConfigurationError naming the variable."""
        origins = tuple(o.strip() for o in environ.get("CORS_ALLOW_ORIGINS", "*").split(",") if o.strip())
        settings = cls(
            in_lambda=bool(environ.get("AWS_LAMBDA_FUNCTION_NAME")),
            mongodb_uri=_optional(environ, "MONGODB_URI"),
            mongodb_uri_secret_arn=_optional(environ, "MONGODB_URI_SECRET_ARN"),
            mongodb_db_name=_optional(environ, "MONGODB_DB_NAME") or DEFAULT_DB_NAME,
            mongodb_timeout_ms=_int(environ, "MONGODB_TIMEOUT_MS", 2000, low=100, high=20000),
            jwt_secret=_optional(environ, "JWT_SECRET"),
            jwt_secret_arn=_optional(environ, "JWT_SECRET_ARN"),
            jwt_expire_minutes=_int(environ, "JWT_EXPIRE_MINUTES", 60, low=1, high=60 * 24 * 30),
            jwt_issuer=_optional(environ, "JWT_ISSUER") or "prompt-api",
            jwt_audience=_optional(environ, "JWT_AUDIENCE") or "prompt-api",
            bcrypt_rounds=_int(environ, "BCRYPT_ROUNDS", 12, low=4, high=31),
            cors_allow_origins=origins or ("*",),
            secrets_max_age=_int(environ, "SECRETS_MAX_AGE", 300, low=0, high=86400),
            refresh_expire_days=_int(environ, "REFRESH_EXPIRE_DAYS", 30, low=1, high=365),
            refresh_reuse_grace_seconds=_int(environ, "REFRESH_REUSE_GRACE_SECONDS", 30, low=0, high=300),
            login_max_failures=_int(environ, "LOGIN_MAX_FAILURES", 5, low=1, high=100),
            login_window_minutes=_int(environ, "LOGIN_WINDOW_MINUTES", 15, low=1, high=24 * 60),
            login_max_failures_per_email=_int(environ, "LOGIN_MAX_FAILURES_PER_EMAIL", 100, low=1, high=100_000),
            mail_from=_optional(environ, "MAIL_FROM"),
            password_reset_url=_optional(environ, "PASSWORD_RESET_URL"),
            password_reset_minutes=_int(environ, "PASSWORD_RESET_MINUTES", 30, low=5, high=24 * 60),
            password_reset_max_requests=_int(environ, "PASSWORD_RESET_MAX_REQUESTS", 3, low=1, high=100),
        )
        settings._check()
        return settings

    def _check(self) -> None:
        if not (self.jwt_secret or self.jwt_secret_arn):
            raise ConfigurationError("Set JWT_SECRET_ARN (in AWS) or JWT_SECRET (locally) to the JWT signing secret")
        if self.jwt_secret:
            parse_jwt_secrets(self.jwt_secret, name="JWT_SECRET", strict=self.in_lambda)
        if self.in_lambda and not (self.mongodb_uri or self.mongodb_uri_secret_arn):
            raise ConfigurationError(
                "Set MONGODB_URI_SECRET_ARN or MONGODB_URI: inside Lambda there is no default database"
            )


@dataclass(frozen=True, slots=True)
class JwtSecrets:
    """The JWT signing secrets: ``current`` signs every new token; ``previous`` (during a rotation)
    still verifies the tokens signed before it."""

    current: str
    previous: str | None = None

    @property
    def verifying(self) -> tuple[str, ...]:
        """The secrets a token may be signed with, the current one first."""
        return (self.current,) if self.previous is None else (self.current, self.previous)


JWT_SECRET_FIELDS = frozenset({"current", "previous"})


def parse_jwt_secrets(value: str, *, name: str, strict: bool) -> JwtSecrets:
    """The signing secrets in ``value``: a plain string (the one key) or JSON ``{"current", "previous"?}``.

    Every key is checked like a single secret (no placeholder, 32+ characters inside Lambda). Errors
    name the variable and the field, never a value.
    """
    if not value.lstrip().startswith("{"):
        return JwtSecrets(check_secret(value, name=name, strict=strict))
    try:
        fields = json.loads(value)
    except ValueError:
        raise ConfigurationError(f'{name} starts with "{{" but is not valid JSON') from None
    if not isinstance(fields, dict) or not isinstance(fields.get("current"), str):
        raise ConfigurationError(f'{name} must be a string or JSON {{"current": "...", "previous": "..."}}')
    unknown = sorted(set(fields) - JWT_SECRET_FIELDS)
    if unknown:  # a misspelt "previous" would otherwise log out everyone holding a previous-key token
        raise ConfigurationError(f"{name} has unknown fields {unknown}; only 'current' and 'previous' are read")
    previous = fields.get("previous")
    if previous is not None and not isinstance(previous, str):
        raise ConfigurationError(f"{name}'s 'previous' must be a string (or absent)")
    return JwtSecrets(
        current=check_secret(fields["current"], name=f"{name}'s 'current'", strict=strict),
        previous=check_secret(previous, name=f"{name}'s 'previous'", strict=strict) if previous else None,
    )


def check_secret(value: str, *, name: str, strict: bool) -> str:
    """Refuse an empty signing secret anywhere, and a weak or placeholder one inside Lambda."""
    if not value:
        raise ConfigurationError(f"{name} is empty")
    if strict and (value.lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_LENGTH):
        raise ConfigurationError(
            f"{name} is a placeholder or shorter than {MIN_SECRET_LENGTH} characters; "
            "use the secret the stack generates (JWT_SECRET_ARN)"
        )
    return value


@cache
def get_settings() -> Settings:
    """The settings of this container, read once."""
    return Settings.from_env()


def _secret_value(arn: str, max_age: int) -> str:
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(arn, max_age=max_age)
    return value if isinstance(value, str) else value.decode()


def jwt_secrets() -> JwtSecrets:
    """The JWT signing secrets: from JWT_SECRET, else from Secrets Manager (cached by Powertools)."""
    settings = get_settings()
    if settings.jwt_secret:
        return parse_jwt_secrets(settings.jwt_secret, name="JWT_SECRET", strict=settings.in_lambda)
    assert settings.jwt_secret_arn is not None  # guaranteed by Settings._check
    value = _secret_value(settings.jwt_secret_arn, settings.secrets_max_age)
    return parse_jwt_secrets(value, name="JWT_SECRET_ARN's secret", strict=settings.in_lambda)


def jwt_secret() -> str:
    """The secret that signs new tokens (the current one)."""
    return jwt_secrets().current


def mongodb_uri() -> str | None:
    """The MongoDB URI, or None where the embedded store is allowed (outside Lambda)."""
    settings = get_settings()
    if settings.mongodb_uri:
        return settings.mongodb_uri
    if settings.mongodb_uri_secret_arn:
        return _secret_value(settings.mongodb_uri_secret_arn, settings.secrets_max_age).strip()
    return None
