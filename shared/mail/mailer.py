"""Outgoing mail: the one door senders use, and the hook for stand-ins outside Lambda.

In Lambda every mail goes through Amazon SES (``shared.mail.ses``). Outside Lambda a tool or a test
may install a stand-in with ``use_mailer()``, as ``shared.data.client.use_client`` installs a database:
the local API installs one that prints each mail and keeps it under its data directory. Nothing here
knows what a stand-in is; ``reset()`` forgets everything, as a fresh container would.
"""

from __future__ import annotations

from typing import Protocol

from shared.config import recovery_settings


class Mailer(Protocol):
    """Something that delivers plain-text mail."""

    def send(self, *, sender: str, to: str, subject: str, text: str) -> None:
        """Hand one mail over for delivery; raise MailNotSent (or any error) when it could not be."""


_mailer: Mailer | None = None
_installed: Mailer | None = None


def get_mailer() -> Mailer:
    """The container's mailer, made on first use: the installed stand-in outside Lambda, SES otherwise.

    SES's module, boto3 with it, is imported and its client created then, on the container's first
    request, not at init: a function's cold start does not wait for them, and a caller that gets the
    mailer before it knows whether it will send (``shared.accounts.forgot_password``) pays for them on
    every path alike.
    """
    global _mailer
    if _mailer is None:
        if _installed is not None and not recovery_settings().in_lambda:
            _mailer = _installed
        else:
            from shared.mail.ses import SesMailer

            _mailer = SesMailer()
    return _mailer


def use_mailer(mailer: Mailer) -> None:
    """Install ``mailer`` for every mail sent outside Lambda (development tools and tests; in Lambda,
    SES is always used). The next ``get_mailer()`` picks it up; it stays until ``reset()``."""
    global _mailer, _installed
    _mailer, _installed = None, mailer


def reset() -> None:
    """Forget the mailer and any installed stand-in (a fresh container)."""
    global _mailer, _installed
    _mailer, _installed = None, None
