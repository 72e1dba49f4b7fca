"""Documents as the seed's FastAPI app wrote them (``seed/000_9c0a38ccc956f204.txt``, "Database Schema").

MongoDB gave each one an ObjectId ``_id``; the app's own id is the string UUID ``id`` beside it. Users:
``id, email, username, hashed_password, created_at, is_active``; prompts: ``id, user_id`` (the user's
``id``), ``content, response, created_at, updated_at``; status checks: ``id, client_name, timestamp``.
Times are BSON dates; hashes are bcrypt (``$2b$``, passlib's and the bcrypt package's prefix).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt
from bson import ObjectId

SEED_EPOCH = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def seed_hash(password: str, *, rounds: int = 4) -> str:
    """A bcrypt hash as the seed stored it (the seed's cost is 12; tests use 4 for speed)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def seed_user(
    email: str,
    *,
    hashed_password: str,
    username: str = "seed user",
    minutes: int = 0,
    is_active: bool = True,
) -> dict[str, Any]:
    return {
        "_id": ObjectId(),
        "id": str(uuid.uuid4()),
        "email": email,
        "username": username,
        "hashed_password": hashed_password,
        "created_at": SEED_EPOCH + timedelta(minutes=minutes),
        "is_active": is_active,
    }


def seed_prompt(user_id: str, content: str, *, response: str | None = None, minutes: int = 0) -> dict[str, Any]:
    when = SEED_EPOCH + timedelta(minutes=minutes)
    return {
        "_id": ObjectId(),
        "id": str(uuid.uuid4()),
        "user_id": user_id,
        "content": content,
        "response": response,
        "created_at": when,
        "updated_at": when + timedelta(seconds=30),
    }


def seed_status_check(client_name: str, *, minutes: int = 0) -> dict[str, Any]:
    return {
        "_id": ObjectId(),
        "id": str(uuid.uuid4()),
        "client_name": client_name,
        "timestamp": SEED_EPOCH + timedelta(minutes=minutes),
    }
