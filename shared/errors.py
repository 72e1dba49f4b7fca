"""The errors the API raises on purpose, each carrying the HTTP status it becomes.

They turn into ``{"detail": ...}`` responses in exactly one place: ``shared.http.errors``.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Base class for every error that becomes an HTTP response with a ``detail`` body."""

    status_code = 500
    default_detail = "Internal server error"

    def __init__(self, detail: Any = None) -> None:
        self.detail = self.default_detail if detail is None else detail
        super().__init__(self.detail)


class BadRequest(ApiError):
    """Raised when a request is well-formed JSON but asks for something impossible."""

    status_code = 400
    default_detail = "Bad request"


class Unauthorized(ApiError):
    """Raised when credentials are missing, wrong, expired or belong to no active user."""

    status_code = 401
    default_detail = "Could not validate credentials"


class Forbidden(ApiError):
    """Raised when the caller is known but may not do this (an inactive account)."""

    status_code = 403
    default_detail = "Forbidden"


class NotFound(ApiError):
    """Raised when a resource does not exist or does not belong to the caller."""

    status_code = 404
    default_detail = "Not found"


class Conflict(ApiError):
    """Raised when a write would break a uniqueness rule, such as a registered email."""

    status_code = 409
    default_detail = "Conflict"


class InvalidInput(ApiError):
    """Raised when a value passes the schema but not a rule checked later (a bad cursor).

    ``loc`` and ``type`` follow the FastAPI/pydantic error shape, so clients handle it
    like any other 422.
    """

    status_code = 422

    def __init__(self, msg: str, *, loc: tuple[str | int, ...], type: str = "value_error") -> None:  # noqa: A002
        super().__init__([{"loc": list(loc), "msg": msg, "type": type}])


class TooManyRequests(ApiError):
    """Raised when a client must wait before trying again (a throttled login); carries how long."""

    status_code = 429
    default_detail = "Too many requests"

    def __init__(self, detail: Any = None, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ServiceUnavailable(ApiError):
    """Raised when a dependency (the database) cannot be reached in time."""

    status_code = 503
    default_detail = "Service temporarily unavailable"


class DatabaseRefused(ServiceUnavailable):
    """Raised when the database refuses the functions' database user: its credentials (a rotated password, a
    removed user) or the rights an operation needs. ``code`` and ``reason`` are the server's (its code name
    and message), for the log and an operator's tools; the client sees the 503 of an unavailable database."""

    UNAUTHORIZED = 13  # the server's code for a user without the rights an operation needs
    AUTHENTICATION_FAILED = 18

    def __init__(self, detail: Any = None, *, code: int | None, code_name: str, reason: str) -> None:
        super().__init__(detail)
        self.code = code
        self.code_name = code_name
        self.reason = reason


class ConfigurationError(RuntimeError):
    """Raised at start when a required setting or secret is missing or is a placeholder."""


class MailNotSent(RuntimeError):
    """Raised when a mail could not be handed to the mail service (the message names no recipient)."""
