"""The accounts' request and response models: registering, logging in, the account, its password,
and the token pair of a session. The password hash exists only in storage (``UserInDB``)."""

import re
import unicodedata
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from shared.models import ApiModel, Id, RequestModel, UtcDatetime

BCRYPT_MAX_BYTES = 72
PASSWORD_NORMAL_FORM: Final = "NFKC"  # noqa: S105 - a Unicode normal form
"""NIST SP 800-63B (5.1.1.2): normalise with NFKC or NFKD before hashing. NFKC, so that a precomposed
and a decomposed accent (macOS and some keyboards send NFD), and a full-width and a plain letter (an
IME), are the same password; the compatibility mapping costs a few look-alike characters' entropy."""


def normalized_password(value: str) -> str:
    """``value`` as it is hashed and checked: Unicode NFKC (``PASSWORD_NORMAL_FORM``)."""
    return unicodedata.normalize(PASSWORD_NORMAL_FORM, value)


_EMAIL = re.compile(
    r"^(?=.{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("value is not a valid email address")
    return value.lower()


def _password_fits_bcrypt(value: str) -> str:
    # NFKC may lengthen a password (a ligature becomes its letters): the limit applies to what is hashed.
    if len(normalized_password(value).encode()) > BCRYPT_MAX_BYTES:
        raise ValueError(f"password must be at most {BCRYPT_MAX_BYTES} bytes in UTF-8 (after Unicode NFKC)")
    return value


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254),
    AfterValidator(_email),
    Field(
        description="Email address; stored and compared in lower case.",
        examples=["ada@example.com"],
        json_schema_extra={"format": "email"},
    ),
]
Password = Annotated[
    str,
    StringConstraints(min_length=8, max_length=BCRYPT_MAX_BYTES),
    AfterValidator(_password_fits_bcrypt),
    Field(description="8 characters to 72 bytes in UTF-8.", examples=["correct horse battery"], repr=False),
]
GivenPassword = Annotated[
    str,
    StringConstraints(min_length=1, max_length=1024),
    Field(description="The account's password.", examples=["correct horse battery"], repr=False),
]
"""A password the client gives to prove who they are (checked against the hash, never stored)."""
Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    Field(description="Display name.", examples=["ada"]),
]


class UserCreate(RequestModel):
    # Any letter case registers; the email is stored (and logged in with) in lower case.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "Ada@Example.com", "username": "ada", "password": "correct horse battery"}]
        }
    )

    email: Email
    username: Username
    password: Password


class UserLogin(RequestModel):
    email: Email
    password: GivenPassword


class UserUpdate(RequestModel):
    """Only the username can change here; any other field (email, password, is_active...) is a 422."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"username": "ada lovelace"}]})

    username: Username


class PasswordChange(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"current_password": "correct horse battery", "new_password": "battery staple horse"}]
        }
    )

    current_password: GivenPassword
    new_password: Password


class AccountDeletion(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"password": "correct horse battery"}]})

    password: GivenPassword


class PasswordForgot(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "ada@example.com"}]})

    email: Email


class PasswordReset(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": "kV3q-EXAMPLE-r3s3t-t0k3n", "new_password": "battery staple horse"}]}
    )

    token: Annotated[
        str,
        StringConstraints(min_length=1, max_length=512),
        Field(description="The `token` of the link in the reset mail.", repr=False),
    ]
    new_password: Password


class TokenRefresh(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"refresh_token": "3q2-7wEXAMPLEr4nd0m-t0k3n"}]})

    refresh_token: Annotated[
        str,
        StringConstraints(min_length=1, max_length=512),
        Field(description="The `refresh_token` of the last login or refresh.", repr=False),
    ]


class UserPublic(ApiModel):
    id: Id
    email: str
    username: str
    created_at: UtcDatetime
    is_active: bool


class UserInDB(UserPublic):
    hashed_password: str
    sessions_valid_after: UtcDatetime | None = None
    password_changed_by: str | None = None
    """The session that made the last password change (it may retry it, see ``change_password``)."""


class Token(ApiModel):
    """An access token and the refresh token of its session."""

    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.", repr=False)
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int = Field(description="Lifetime of the access token in seconds.", examples=[3600])
    refresh_token: str = Field(
        description="Single use: `POST /api/token/refresh` spends it for a new pair.", repr=False
    )
    refresh_expires_in: int = Field(description="Lifetime of the refresh token in seconds.", examples=[2592000])
