"""The authentication flows: register, log in, and turn a bearer token into a user."""

from __future__ import annotations

import jwt

from shared.config import get_settings, jwt_secret
from shared.errors import Forbidden, Unauthorized
from shared.models import Token, UserCreate, UserLogin, UserPublic
from shared.repositories import UserRepository
from shared.security import create_access_token, decode_access_token, hash_password, verify_password

INVALID_CREDENTIALS = "Incorrect email or password"


def register_user(data: UserCreate) -> UserPublic:
    """Create an account; Conflict when the email is already registered in any letter case."""
    hashed = hash_password(data.password, rounds=get_settings().bcrypt_rounds)
    return UserRepository().create(email=data.email, username=data.username, hashed_password=hashed)


def issue_token(data: UserLogin) -> Token:
    """A bearer token for valid credentials; the same 401 for an unknown email or a wrong password."""
    settings = get_settings()
    user = UserRepository().get_by_email(data.email)
    hashed = user.hashed_password if user else None
    if not verify_password(data.password, hashed, rounds=settings.bcrypt_rounds) or user is None:
        raise Unauthorized(INVALID_CREDENTIALS)
    if not user.is_active:
        raise Forbidden("Inactive user")
    token = create_access_token(
        subject=user.id,
        secret=jwt_secret(),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        expires_minutes=settings.jwt_expire_minutes,
    )
    return Token(access_token=token, expires_in=settings.jwt_expire_minutes * 60)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Not authenticated")
    return token.strip()


def user_from_token(token: str) -> UserPublic:
    """The active user a valid token names; Unauthorized for any bad token or gone user."""
    settings = get_settings()
    try:
        claims = decode_access_token(
            token, secret=jwt_secret(), issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
    except jwt.InvalidTokenError as e:
        raise Unauthorized() from e
    user = UserRepository().get(str(claims["sub"]))
    if user is None or not user.is_active:
        raise Unauthorized()
    return user
