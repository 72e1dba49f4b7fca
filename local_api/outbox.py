"""The mail stand-in: no SES locally, so every mail the functions send is printed in the terminal and
kept as ``<data_dir>/mail/<time>-<n>.eml`` (RFC 5322, readable in any mail client or text editor).

It is handed to the layer through ``project.MailHook`` (``shared.mail.mailer.use_mailer``), as the
embedded store is, again after each hot reload. With ``--in-memory`` nothing is written: the mails are
printed and kept in ``sent`` only.
"""

from __future__ import annotations

import itertools
import logging
import os
import tempfile
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from local_api.project import MailHook

logger = logging.getLogger(__name__)

MAIL_DIR = "mail"


class Outbox:
    """Keeps what the functions mail: printed, listed in ``sent``, and written under ``<data_dir>/mail``."""

    def __init__(self, data_dir: Path | None) -> None:
        self.folder = data_dir / MAIL_DIR if data_dir is not None else None
        self.sent: list[EmailMessage] = []
        self._numbers = itertools.count(1)
        self._hook = MailHook()

    def send(self, *, sender: str, to: str, subject: str, text: str) -> None:
        """Keep one plain-text mail (the layer's ``Mailer`` protocol)."""
        now = datetime.now(UTC)
        message = EmailMessage()
        message["From"] = sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(domain="local-api")
        message.set_content(text, cte="8bit")  # as written: a link stays one line a person can copy
        self.sent.append(message)
        path = self._write(message, f"{now:%Y%m%dT%H%M%S.%fZ}-{next(self._numbers)}.eml")
        kept = f"kept in {path}" if path is not None else "not kept (--in-memory)"
        logger.info("Mail to %s, %r (%s):\n%s", to, subject, kept, text.rstrip())

    def _write(self, message: EmailMessage, name: str) -> Path | None:
        if self.folder is None:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / name
        fd, tmp = tempfile.mkstemp(prefix=".mail-", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(message.as_bytes())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def install(self) -> None:
        """Make this outbox the functions' mailer (again, when a reload made new modules)."""
        self._hook.install(self)

    def describe(self) -> str:
        """Where mail goes, for the start banner."""
        where = "printed here only (--in-memory)" if self.folder is None else f"printed here and kept in {self.folder}/"
        return f"no SES; each mail is {where}"
