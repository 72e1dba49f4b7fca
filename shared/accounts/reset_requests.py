"""The ``reset_requests`` collection: password-reset requests per (normalised) email, and per client
address, per hour."""

from __future__ import annotations

from shared.data.windows import WindowCounts


class ResetRequestRepository(WindowCounts):
    """Request counts: ``_id`` is the email, whether or not an account has it, for that email's count;
    ``"from <address>"`` for one client address's count across every email (an email holds no space)."""

    def __init__(self) -> None:
        super().__init__("reset_requests")


def client_key(client_address: str) -> str:
    """The key of the requests from ``client_address``, whatever their emails."""
    return f"from {client_address}"
