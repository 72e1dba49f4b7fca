"""The ``login_attempts`` collection: failed password checks, counted per (email, client address) and
per email, in fixed windows; and the guard every password check goes through."""

from __future__ import annotations

import re
from datetime import timedelta

from shared.config import password_settings
from shared.data.client import retry_once, translated
from shared.data.windows import WindowCounts
from shared.metrics import Metric

TOO_MANY_LOGINS = "Too many failed logins; try again later"
TOO_MANY_WRONG_PASSWORDS = "Too many wrong passwords; try again later"
"""The 429 of a password check that is no login (a password change, deleting the account, a registration
retried)."""


class LoginAttemptRepository(WindowCounts):
    """Attempt counts: ``_id`` is the (normalised) email for the count across every address, and
    ``"<email> <address>"`` for one client address's (an email holds no space)."""

    def __init__(self) -> None:
        super().__init__("login_attempts")

    @translated
    def clear_email(self, email: str) -> int:
        """Forget every count of ``email``: its own and each client address's (deleting the account)."""
        keys = {"$or": [{"_id": email}, {"_id": {"$regex": f"^{re.escape(email)} "}}]}
        return retry_once(lambda: self.collection.delete_many(keys)).deleted_count


def address_key(email: str, client_address: str) -> str:
    """The key of the attempts on ``email`` from ``client_address``."""
    return f"{email} {client_address}"


class PasswordGuard:
    """The limits on guessing a password, for one check of ``email``'s password from ``client_address``.

    ``admit()`` counts the attempt before the password is checked (atomic increments, so N concurrent
    guesses never get more than the limit of answers): past LOGIN_MAX_FAILURES from this address, or
    past LOGIN_MAX_FAILURES_PER_EMAIL from all addresses together, within LOGIN_WINDOW_MINUTES, it
    raises TooManyRequests with the seconds until that window ends, whatever the password and whether
    or not the email is registered. ``proved()`` after a right password: the address's count is
    cleared, and this attempt no longer counts against the email (the others from elsewhere still do,
    so the owner's logins do not reset a distributed guesser's budget).
    """

    def __init__(self, email: str, client_address: str, *, throttled: Metric = Metric.LOGIN_THROTTLED) -> None:
        self.email = email
        self.address_key = address_key(email, client_address)
        self.throttled = throttled
        self.attempts = LoginAttemptRepository()

    def admit(self, detail: str = TOO_MANY_LOGINS) -> None:
        """Count this attempt, or raise TooManyRequests when a limit is passed."""
        settings = password_settings()
        window = timedelta(minutes=settings.login_window_minutes)
        limits = ((self.address_key, settings.login_max_failures), (self.email, settings.login_max_failures_per_email))
        for key, limit in limits:
            self.attempts.admit(key, limit=limit, window=window, detail=detail, throttled=self.throttled)

    def proved(self) -> None:
        """The password was right: forget this address's failures, and take this attempt back."""
        self.attempts.clear(self.address_key)
        self.attempts.release(self.email)
