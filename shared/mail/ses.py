"""Mail through Amazon SES (API v2, ``SendEmail``), one client per container.

Only the function that mails (``forgot_password``) imports this module, and with it boto3, on its
container's first request (``shared.mail.mailer.get_mailer``): its init does not wait for them. The
sender must be an SES verified identity (an address, or its domain) that the function's role may send
as; in SES's sandbox the recipient must be verified too (README, Deploy; docs/operations.md).
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import MailNotSent

# Well within the function's 10 s: a slow SES is a failed send (counted, alarmed), not a timeout.
_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 2})


class SesMailer:
    """Sends each mail with SES's ``SendEmail``, as plain UTF-8 text."""

    def __init__(self) -> None:
        # Made once per container (``shared.mail.mailer.get_mailer`` keeps this mailer), in the region
        # Lambda runs in (AWS_REGION).
        self.client: Any = boto3.client("sesv2", config=_CLIENT_CONFIG)

    def send(self, *, sender: str, to: str, subject: str, text: str) -> None:
        """Send one mail; MailNotSent (naming SES's error code, never the recipient) when SES refuses it."""
        try:
            self.client.send_email(
                FromEmailAddress=sender,
                Destination={"ToAddresses": [to]},
                Content={
                    "Simple": {
                        "Subject": {"Data": subject, "Charset": "UTF-8"},
                        "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
                    }
                },
            )
        except ClientError as e:
            raise MailNotSent(f"SES refused the mail: {e.response.get('Error', {}).get('Code', 'unknown')}") from e
        except BotoCoreError as e:
            raise MailNotSent(f"SES could not be reached: {type(e).__name__}") from e
