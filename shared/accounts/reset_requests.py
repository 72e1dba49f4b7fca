"""The ``reset_requests`` collection: password-reset requests per (normalised) email, per hour."""

from __future__ import annotations

from shared.data.windows import WindowCounts


class ResetRequestRepository(WindowCounts):
    """Request counts: ``_id`` is the email, whether or not an account has it."""

    def __init__(self) -> None:
        super().__init__("reset_requests")
