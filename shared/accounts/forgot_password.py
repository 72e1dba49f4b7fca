"""Ask for a password reset: a single-use link mailed to the account's address, the same answer for
every email."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from urllib.parse import urlsplit

from shared.accounts.reset_requests import ResetRequestRepository, client_key
from shared.accounts.reset_tokens import ResetTokenRepository, new_reset_token
from shared.accounts.users import UserRepository
from shared.config import recovery_settings
from shared.errors import ConfigurationError, MailNotSent
from shared.mail.mailer import get_mailer
from shared.metrics import Metric, count

logger = logging.getLogger(__name__)

TOO_MANY_REQUESTS = "Too many password reset requests for this email; try again later"
TOO_MANY_FROM_ADDRESS = "Too many password reset requests from this address; try again later"
REQUEST_WINDOW = timedelta(hours=1)
SUBJECT = "Reset your Prompt API password"
LOCAL_MAIL_FROM = "Prompt API <no-reply@localhost>"
LOCAL_RESET_URL = "http://127.0.0.1:3000/reset-password"
_PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net")


_REQUIRED = {
    "MAIL_FROM": "(template parameter MailFrom) to an address of an SES verified identity",
    "PASSWORD_RESET_URL": "(template parameter PasswordResetUrl) to the page that opens the reset link",
}


def _is_placeholder(name: str, value: str) -> bool:
    host = value.rpartition("@")[2] if name == "MAIL_FROM" else (urlsplit(value).hostname or "")
    return host.lower().rstrip(">").endswith(_PLACEHOLDER_DOMAINS)


def reset_mail_settings() -> tuple[str, str]:
    """The sender and the reset page: MAIL_FROM and PASSWORD_RESET_URL. Inside Lambda both must be set,
    and not to the template's example.com placeholders (ConfigurationError naming the variable, at start);
    outside Lambda they default to local values (the local API's mail stand-in does not care)."""
    settings = recovery_settings()
    sender, url = settings.mail_from, settings.password_reset_url
    if settings.in_lambda:
        for name, value in (("MAIL_FROM", sender), ("PASSWORD_RESET_URL", url)):
            if not value or _is_placeholder(name, value):
                raise ConfigurationError(f"Set {name} {_REQUIRED[name]}; it is unset or an example.com placeholder")
    return sender or LOCAL_MAIL_FROM, url or LOCAL_RESET_URL


def reset_link(url: str, token: str) -> str:
    """``url`` with the token in its query string (the token is URL-safe as it is)."""
    return f"{url}{'&' if '?' in url else '?'}token={token}"


class SendTime:
    """How long storing a reset token and handing its mail over take in this container (a moving average
    of real sends), so that a request that does neither can take as long. Starts at a typical SES call
    from Lambda."""

    def __init__(self, initial_s: float = 0.05, weight: float = 0.2) -> None:
        self.initial_s = initial_s
        self.weight = weight
        self.forget()

    def forget(self) -> None:
        """Back to the initial estimate (a fresh container)."""
        self.seconds = self.initial_s
        self.observed = 0

    def observe(self, seconds: float) -> None:
        """One more real send: the mean of the first ones, then a moving average that follows change."""
        self.observed += 1
        self.seconds += max(self.weight, 1 / self.observed) * (seconds - self.seconds)


send_time = SendTime()


def request_password_reset(email: str, *, client_address: str) -> None:
    """Mail a reset link to ``email`` when it belongs to an active account; the same answer, after the
    same time, when it does not.

    Every request is counted first, once per client address (``client_key``) before anything else is
    stored: past PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS within an hour it is a 429 with ``Retry-After``,
    whatever the email. Then once per email: past PASSWORD_RESET_MAX_REQUESTS for it within an hour, a
    429 too, whether the email is registered or not. So a stranger makes the API store at most one count
    per address and per email admitted, each expiring with its hour (TTL index), and no token: only an
    active account's request stores one (voiding its earlier ones) and mails it. Every other request
    waits, after the lookup, as long as storing a token and handing the mail over take in this container
    (``send_time``). A send that fails is logged and counted (PasswordResetMailFailed, alarmed) but still
    answers 202: anything else would tell which emails are registered.
    """
    settings = recovery_settings()
    sender, url = reset_mail_settings()
    mailer = get_mailer()
    requests = ResetRequestRepository()
    limits = (
        (client_key(client_address), settings.password_reset_max_requests_per_address, TOO_MANY_FROM_ADDRESS),
        (email, settings.password_reset_max_requests, TOO_MANY_REQUESTS),
    )
    for key, limit, detail in limits:
        requests.admit(
            key, limit=limit, window=REQUEST_WINDOW, detail=detail, throttled=Metric.PASSWORD_RESET_THROTTLED
        )
    count(Metric.PASSWORD_RESET_REQUESTED)
    user = UserRepository().get_by_email(email)
    if user is None or not user.is_active:
        time.sleep(send_time.seconds)
        return
    started = time.perf_counter()
    token = new_reset_token()
    minutes = settings.password_reset_minutes
    ResetTokenRepository().issue(user.id, token, lifetime=timedelta(minutes=minutes))
    text = (
        f"Someone, hopefully you, asked to reset the password of the Prompt API account {user.email}.\n\n"
        f"To choose a new password, open this link within {minutes} minutes:\n\n"
        f"{reset_link(url, token)}\n\n"
        "The link works once. If you did not ask for it, ignore this mail: your password stays as it is.\n"
    )
    try:
        mailer.send(sender=sender, to=user.email, subject=SUBJECT, text=text)
    except MailNotSent as e:
        logger.error("Password reset mail not sent: %s", e)
        count(Metric.PASSWORD_RESET_MAIL_FAILED)
    except Exception as e:  # a stand-in's or the SDK's own error: the same answer, never a 500
        logger.error("Password reset mail not sent: %s", type(e).__name__)
        count(Metric.PASSWORD_RESET_MAIL_FAILED)
    else:
        send_time.observe(time.perf_counter() - started)
