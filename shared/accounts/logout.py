"""Log out: the caller's session ends."""

from __future__ import annotations

from shared.accounts.sessions import SessionRepository


def log_out(user_id: str, session_id: str) -> None:
    """Log out: end the caller's session (nothing happens when it has already ended)."""
    SessionRepository().end(session_id, reason="logout", user_id=user_id)
