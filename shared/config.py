"""Typed settings from the environment, one group per concern, each built once per container.

A consumer reads only the groups it uses, so each secret is required only where it is used:

- ``database_settings()``: where the data lives and how long to wait for it (``MONGODB_*``); inside
  Lambda a URI (or its secret) is required. Every function reads it, and so does every operator command
  (``make indexes``, ``make migrate-seed``, ``make account``).
- ``token_settings()``: signing and checking tokens (``JWT_*``, ``REFRESH_*``); the
  signing secret is required. Only the functions that sign or check access tokens read it.
- ``password_settings()``: bcrypt's cost and the throttling of password checks.
- ``recovery_settings()``: the reset mail's sender and link, the reset token's life and rate.
- ``http_settings()``: what every HTTP response shares (CORS).

Each field declares the environment variable it is read from (``setting()``), so ``VARIABLES``
lists every variable the settings read: the tests and the local API's harness clear exactly those.

Plain values come from environment variables. The two secrets (JWT signing key and MongoDB URI)
may instead come from Secrets Manager through Powertools parameters, which caches them for
``SECRETS_MAX_AGE`` seconds (a field of each group that may read a secret); boto3 is imported only
when that happens.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self, TypeVar

from shared.errors import ConfigurationError
from shared.snapstart import per_container

DEFAULT_DB_NAME = "emergent_db"
MIN_SECRET_LENGTH = 32
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "change_me", "secret", "your-secret-key", "placeholder", "jwt-secret"}
)

Reader = Callable[[Mapping[str, str], str], Any]
"""Reads one setting: the environment and the variable's name in, the value out (or ConfigurationError)."""


class Setting:
    """A field of a settings group: the environment variable it is read from, and its reader."""

    __slots__ = ("name", "read", "variable")

    def __init__(self, variable: str, read: Reader) -> None:
        self.name = ""
        self.variable = variable
        self.read = read

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name


def setting(variable: str, read: Reader) -> Any:
    """A settings field, read from the environment variable ``variable`` by ``read``."""
    return Setting(variable, read)


def integer(default: int, *, low: int, high: int) -> Reader:
    """An integer between ``low`` and ``high``; ``default`` when unset or blank."""

    def read(environ: Mapping[str, str], name: str) -> int:
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

    return read


def optional(environ: Mapping[str, str], name: str) -> str | None:
    """A string, or None when unset or blank."""
    return environ.get(name, "").strip() or None


def text(default: str) -> Reader:
    """A string; ``default`` when unset or blank."""
    return lambda environ, name: optional(environ, name) or default


def is_set(environ: Mapping[str, str], name: str) -> bool:
    """Whether the variable is set to anything."""
    return bool(environ.get(name))


def comma_separated(default: str) -> Reader:
    """A comma-separated list without blanks; ``default``'s items when it has none."""

    def read(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
        items = tuple(item.strip() for item in environ.get(name, default).split(",") if item.strip())
        return items or (default,)

    return read


def _in_lambda_field() -> Any:
    """The field of every group that checks more strictly inside Lambda: whether it runs there."""
    return setting("AWS_LAMBDA_FUNCTION_NAME", is_set)


def _secrets_max_age_field() -> Any:
    """The field of every group that may read a secret from Secrets Manager: how long it is cached."""
    return setting("SECRETS_MAX_AGE", integer(300, low=0, high=86400))


class SettingsGroup:
    """Base of the settings groups: each field names its variable (``setting()``); ``from_env`` reads
    them all, then ``check`` what no single variable can say. A group's values never change once read,
    and groups compare by value. (Plain classes, not dataclasses: each dataclass costs every cold start
    about half a millisecond of generated methods to compile.)"""

    fields: ClassVar[tuple[Setting, ...]] = ()
    """The group's fields, in the order they are declared."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.fields = (*cls.fields, *(value for value in vars(cls).values() if isinstance(value, Setting)))

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - {f.name for f in self.fields}
        if unknown:
            raise TypeError(f"{type(self).__name__} has no settings {sorted(unknown)}")
        for f in self.fields:
            object.__setattr__(self, f.name, values[f.name])

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Self:
        """Read and check the environment; raise ConfigurationError naming the variable."""
        settings = cls(**{f.name: f.read(environ, f.variable) for f in cls.fields})
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse a combination of values (ConfigurationError naming the variable); most groups have none."""

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in self.fields)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read once per container and never changed")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read once per container and never changed")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self.fields)
        return f"{type(self).__name__}({shown})"


def variables_of(group: type[SettingsGroup]) -> tuple[str, ...]:
    """The environment variables a settings group reads, in field order."""
    return tuple(dict.fromkeys(f.variable for f in group.fields))


class DatabaseSettings(SettingsGroup):
    """Where the data lives. Inside Lambda a URI (or the secret holding it) is required: never a
    silent default; outside, none means the embedded store a tool or a test installs."""

    in_lambda: bool = _in_lambda_field()
    mongodb_uri: str | None = setting("MONGODB_URI", optional)
    mongodb_uri_secret_arn: str | None = setting("MONGODB_URI_SECRET_ARN", optional)
    mongodb_db_name: str = setting("MONGODB_DB_NAME", text(DEFAULT_DB_NAME))
    mongodb_timeout_ms: int = setting("MONGODB_TIMEOUT_MS", integer(15000, low=100, high=20000))
    mongodb_ping_timeout_ms: int = setting("MONGODB_PING_TIMEOUT_MS", integer(2000, low=100, high=20000))
    secrets_max_age: int = _secrets_max_age_field()

    def check(self) -> None:
        if self.in_lambda and not (self.mongodb_uri or self.mongodb_uri_secret_arn):
            raise ConfigurationError(
                "Set MONGODB_URI_SECRET_ARN or MONGODB_URI: inside Lambda there is no default database"
            )

    @property
    def ping_timeout_s(self) -> float:
        """How long a ping (health's, an operator command's first) may take in all, in seconds: the ping
        timeout, never more than the server-selection timeout a request waits (shared/data/client.py)."""
        return min(self.mongodb_ping_timeout_ms, self.mongodb_timeout_ms) / 1000


class TokenSettings(SettingsGroup):
    """Signing and checking tokens. The signing secret is required (directly or through its secret's
    ARN); inside Lambda a given secret must be strong (``parse_jwt_secrets``)."""

    in_lambda: bool = _in_lambda_field()
    jwt_secret: str | None = setting("JWT_SECRET", optional)
    jwt_secret_arn: str | None = setting("JWT_SECRET_ARN", optional)
    jwt_expire_minutes: int = setting("JWT_EXPIRE_MINUTES", integer(60, low=1, high=60 * 24 * 30))
    jwt_issuer: str = setting("JWT_ISSUER", text("prompt-api"))
    jwt_audience: str = setting("JWT_AUDIENCE", text("prompt-api"))
    refresh_expire_days: int = setting("REFRESH_EXPIRE_DAYS", integer(30, low=1, high=365))
    refresh_reuse_grace_seconds: int = setting("REFRESH_REUSE_GRACE_SECONDS", integer(30, low=0, high=300))
    password_change_retry_seconds: int = setting("PASSWORD_CHANGE_RETRY_SECONDS", integer(30, low=0, high=300))
    secrets_max_age: int = _secrets_max_age_field()

    def check(self) -> None:
        if not (self.jwt_secret or self.jwt_secret_arn):
            raise ConfigurationError("Set JWT_SECRET_ARN (in AWS) or JWT_SECRET (locally) to the JWT signing secret")
        if self.jwt_secret:
            parse_jwt_secrets(self.jwt_secret, name="JWT_SECRET", strict=self.in_lambda)


class PasswordSettings(SettingsGroup):
    """Hashing passwords and throttling the checks of them."""

    bcrypt_rounds: int = setting("BCRYPT_ROUNDS", integer(12, low=4, high=31))
    login_max_failures: int = setting("LOGIN_MAX_FAILURES", integer(5, low=1, high=100))
    login_window_minutes: int = setting("LOGIN_WINDOW_MINUTES", integer(15, low=1, high=24 * 60))
    login_max_failures_per_email: int = setting("LOGIN_MAX_FAILURES_PER_EMAIL", integer(100, low=1, high=100_000))


class RecoverySettings(SettingsGroup):
    """Password recovery: the mail's sender and link, the reset token's life, the requests allowed (per
    email, and per client address whatever the email). The forgot function checks the sender and link
    inside Lambda (``shared.accounts.forgot_password``)."""

    in_lambda: bool = _in_lambda_field()
    mail_from: str | None = setting("MAIL_FROM", optional)
    password_reset_url: str | None = setting("PASSWORD_RESET_URL", optional)
    password_reset_minutes: int = setting("PASSWORD_RESET_MINUTES", integer(30, low=5, high=24 * 60))
    password_reset_max_requests: int = setting("PASSWORD_RESET_MAX_REQUESTS", integer(3, low=1, high=100))
    password_reset_max_requests_per_address: int = setting(
        "PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS", integer(20, low=1, high=10_000)
    )


class HttpSettings(SettingsGroup):
    """What every HTTP response shares: the origins CORS allows."""

    cors_allow_origins: tuple[str, ...] = setting("CORS_ALLOW_ORIGINS", comma_separated("*"))


GROUPS: tuple[type[DatabaseSettings | TokenSettings | PasswordSettings | RecoverySettings | HttpSettings], ...] = (
    DatabaseSettings,
    TokenSettings,
    PasswordSettings,
    RecoverySettings,
    HttpSettings,
)

VARIABLES: tuple[str, ...] = tuple(dict.fromkeys(name for group in GROUPS for name in variables_of(group)))
"""Every environment variable the settings read: what a clean environment (tests, harness) clears."""


GroupT = TypeVar("GroupT", DatabaseSettings, TokenSettings, PasswordSettings, RecoverySettings, HttpSettings)


_read: dict[type[Any], Any] = {}


def _settings(group: type[GroupT]) -> GroupT:
    """This container's settings of ``group``, read once."""
    if group not in _read:
        _read[group] = group.from_env()
    settings: GroupT = _read[group]
    return settings


def database_settings() -> DatabaseSettings:
    return _settings(DatabaseSettings)


def token_settings() -> TokenSettings:
    return _settings(TokenSettings)


def password_settings() -> PasswordSettings:
    return _settings(PasswordSettings)


def recovery_settings() -> RecoverySettings:
    return _settings(RecoverySettings)


def http_settings() -> HttpSettings:
    return _settings(HttpSettings)


def clear_caches() -> None:
    """Forget every group's settings: the next read takes the environment as it is then."""
    _read.clear()


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


_secrets_read = False


def _secret_value(arn: str, max_age: int) -> str:
    global _secrets_read
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(arn, max_age=max_age)
    _secrets_read = True
    return value if isinstance(value, str) else value.decode()


@per_container
def forget_secrets() -> None:
    """Forget every settings group and every secret read from Secrets Manager (Powertools' cache): the
    next read takes the environment and the secrets as they are then. A container restored from a
    SnapStart snapshot starts so."""
    global _secrets_read
    clear_caches()
    if _secrets_read:
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()  # type: ignore[no-untyped-call]
        _secrets_read = False


def jwt_secrets() -> JwtSecrets:
    """The JWT signing secrets: from JWT_SECRET, else from Secrets Manager (cached by Powertools)."""
    settings = token_settings()
    if settings.jwt_secret:
        return parse_jwt_secrets(settings.jwt_secret, name="JWT_SECRET", strict=settings.in_lambda)
    assert settings.jwt_secret_arn is not None  # guaranteed by TokenSettings.from_env
    value = _secret_value(settings.jwt_secret_arn, settings.secrets_max_age)
    return parse_jwt_secrets(value, name="JWT_SECRET_ARN's secret", strict=settings.in_lambda)


def jwt_secret() -> str:
    """The secret that signs new tokens (the current one)."""
    return jwt_secrets().current


def mongodb_uri() -> str | None:
    """The MongoDB URI, or None where the embedded store is allowed (outside Lambda)."""
    settings = database_settings()
    if settings.mongodb_uri:
        return settings.mongodb_uri
    if settings.mongodb_uri_secret_arn:
        return _secret_value(settings.mongodb_uri_secret_arn, settings.secrets_max_age).strip()
    return None
