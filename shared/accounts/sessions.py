"""The ``sessions`` collection: what a login starts, a refresh rotates and a logout (or worse) ends.

A session document holds the hash of its current refresh token (``refresh_hash``), the hashes of
the ones it spent (``spent_hashes``, for reuse detection), its absolute refresh expiry
(``expires_at``, TTL-indexed), when it last rotated (``rotated_at``) and, once it ends, ``ended_at``
and ``end_reason``. A user's
``sessions_valid_after`` ends every session created before it in one write.

The authorizer reads sessions through this module: pymongo only, no PyJWT, no request models, no bcrypt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.accounts.refresh_tokens import hash_refresh_token, new_refresh_token
from shared.config import token_settings
from shared.data.client import Document, get_database, retry_once, translated
from shared.data.ownership import owned_by
from shared.ids import new_id, utcnow

_CALLER_FIELDS = ("_id", "is_active", "sessions_valid_after", "password_changed_by", "deleted_at", "deleting_session")
SPENT_HASHES_KEPT = 1000
"""How many spent refresh-token hashes a session keeps for reuse detection (its latest ones). A
refresh extends the session, so without a bound a session in daily use would grow forever; a token
spent longer ago than that is simply unknown (still a 401, but its session does not end)."""


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just started or rotated: the refresh token in clear exists only here, once."""

    session_id: str
    user_id: str
    refresh_token: str
    expires_at: datetime


def session_is_valid(session: Document, user: Document | None) -> bool:
    """Whether ``session`` may still be used: its user exists, is active, owns it and has not ended
    every session started before ``sessions_valid_after`` (a password change, a deactivation)."""
    if user is None or user.get("is_active") is not True or session.get("user_id") != user.get("_id"):
        return False
    created_at, valid_after = session.get("created_at"), user.get("sessions_valid_after")
    if not isinstance(created_at, datetime) or not isinstance(valid_after, datetime | None):
        return False  # a malformed document: refused, never an error
    # created_at and valid_after both carry BSON's milliseconds; equal means created after the cut.
    return valid_after is None or created_at >= valid_after


def may_only_retry(session: Document, user: Document | None, *, now: datetime | None = None) -> str | None:
    """What a session that is no longer valid may still do, because it started it: ``"delete_account"``
    for the session that asked for its account's deletion, while that is under way (until its session
    document goes); ``"change_password"`` for the session that changed the password, for
    PASSWORD_CHANGE_RETRY_SECONDS after the change. None otherwise. The authorizer lets such a session
    through to that one route, so that the request retried after a lost answer completes, not a 401."""
    if user is None or session.get("user_id") != user.get("_id"):
        return None
    if user.get("deleted_at") is not None:
        return "delete_account" if user.get("deleting_session") == session.get("_id") else None
    valid_after = user.get("sessions_valid_after")
    if user.get("is_active") is not True or user.get("password_changed_by") != session.get("_id"):
        return None
    if not isinstance(valid_after, datetime):
        return None  # no change (or a malformed document): refused, never an error
    grace = timedelta(seconds=token_settings().password_change_retry_seconds)
    return "change_password" if (now or utcnow()) < valid_after + grace else None


class SessionRepository:
    def __init__(self) -> None:
        self.collection = get_database().sessions

    @translated
    def start(self, user_id: str, *, now: datetime | None = None) -> NewSession:
        """A new live session for ``user_id`` created at ``now``, with its first refresh token."""
        session = self._insert(user_id, new_id(), new_refresh_token(), now or utcnow())
        assert session is not None  # a new random id is never a duplicate
        return session

    @translated
    def start_once(self, user_id: str, *, session_id: str, refresh_token: str, now: datetime) -> NewSession | None:
        """The session ``session_id`` (a derived id) with ``refresh_token``: created now, or, for a retry,
        the one created before, as long as that token is still its current one. None when it was used since
        (or ended)."""
        return self._insert(user_id, session_id, refresh_token, now)

    def _insert(self, user_id: str, session_id: str, token: str, now: datetime) -> NewSession | None:
        expires_at = now + timedelta(days=token_settings().refresh_expire_days)
        doc = {
            "_id": session_id,
            "user_id": user_id,
            "refresh_hash": hash_refresh_token(token),
            "spent_hashes": [],
            "created_at": now,
            "expires_at": expires_at,
            "ended_at": None,
            "end_reason": None,
        }
        try:
            self.collection.insert_one(doc)
        except DuplicateKeyError:
            query = {"_id": session_id, "user_id": user_id, "refresh_hash": doc["refresh_hash"], "ended_at": None}
            existing = self.collection.find_one(query)
            if existing is None:
                return None
            return NewSession(session_id, user_id, token, existing["expires_at"])
        return NewSession(session_id, user_id, token, expires_at)

    @translated
    def rotate(self, refresh_token: str, *, successor: str) -> tuple[NewSession, Document] | None:
        """Spend ``refresh_token`` for ``successor``, if it is the current token of a live session.

        One conditional update, so of two concurrent refreshes with the same token exactly one spends
        it. Returns the new token and the session document, or None when no live session has this token.
        """
        now = utcnow()
        spent = hash_refresh_token(refresh_token)
        expires_at = now + timedelta(days=token_settings().refresh_expire_days)
        doc = self.collection.find_one_and_update(
            {"refresh_hash": spent, "ended_at": None, "expires_at": {"$gt": now}},
            {
                "$set": {"refresh_hash": hash_refresh_token(successor), "expires_at": expires_at, "rotated_at": now},
                "$push": {"spent_hashes": {"$each": [spent], "$slice": -SPENT_HASHES_KEPT}},
            },
            return_document=ReturnDocument.AFTER,
        )
        if doc is None or not isinstance(doc.get("user_id"), str):
            return None  # none, or a malformed session: the token is refused either way
        return NewSession(doc["_id"], doc["user_id"], successor, expires_at), doc

    @translated
    def just_rotated(
        self, refresh_token: str, *, successor: str, grace: timedelta
    ) -> tuple[NewSession, Document] | None:
        """The live session that spent ``refresh_token`` for ``successor`` less than ``grace`` ago, while
        ``successor`` is still its current token (not used since): a retry of that very refresh."""
        now = utcnow()
        doc = self.collection.find_one(
            {
                "refresh_hash": hash_refresh_token(successor),
                "spent_hashes": hash_refresh_token(refresh_token),
                "ended_at": None,
                "expires_at": {"$gt": now},
                "rotated_at": {"$gt": now - grace},
            }
        )
        if doc is None or not isinstance(doc.get("user_id"), str):
            return None
        return NewSession(doc["_id"], doc["user_id"], successor, doc["expires_at"]), doc

    @translated
    def end_if_spent(self, refresh_token: str) -> bool:
        """Reuse detection: when ``refresh_token`` is one a live session already spent, end that session
        (its current refresh token and its access tokens stop working). True when one ended now."""
        result = self.collection.update_one(
            {"spent_hashes": hash_refresh_token(refresh_token), "ended_at": None},
            {"$set": {"ended_at": utcnow(), "end_reason": "reuse"}},
        )
        return result.modified_count == 1

    @translated
    def end(self, session_id: str, *, reason: str, user_id: str | None = None) -> bool:
        """End one live session (of ``user_id`` when given); False when it had already ended."""
        query: dict[str, Any] = {"_id": session_id, "ended_at": None}
        if user_id is not None:
            query["user_id"] = user_id
        result = self.collection.update_one(query, {"$set": {"ended_at": utcnow(), "end_reason": reason}})
        return result.modified_count == 1

    @translated
    def end_all(self, user_id: str, *, reason: str, keep: tuple[str, ...] = ()) -> int:
        """End every live session of ``user_id`` but those in ``keep``; how many ended (retried once:
        ``retry_once``)."""
        query: dict[str, Any] = {"user_id": user_id, "ended_at": None}
        if keep:
            query["_id"] = {"$nin": list(keep)}
        ended = {"$set": {"ended_at": utcnow(), "end_reason": reason}}
        return retry_once(lambda: self.collection.update_many(query, ended)).modified_count

    @translated
    def remove(self, session_id: str) -> None:
        """Remove one session document (one started for an account that is being deleted meanwhile)."""
        self.collection.delete_one({"_id": session_id})

    @translated
    def of_user(self, user_id: str) -> list[Document]:
        """Every session of ``user_id``, oldest first, without its token hashes (for an operator's eyes)."""
        fields = {"refresh_hash": False, "spent_hashes": False}
        return list(self.collection.find({"user_id": user_id}, fields).sort([("created_at", 1), ("_id", 1)]))

    @translated
    def delete_all(self, user_id: str) -> int:
        """Remove every session of ``user_id``; how many (retried once: ``retry_once``)."""
        return retry_once(lambda: self.collection.delete_many(owned_by(user_id))).deleted_count

    @translated
    def owner(self, user_id: str) -> Document | None:
        """The fields of user ``user_id`` that say whether their sessions are valid (None if gone)."""
        return get_database().users.find_one({"_id": user_id}, dict.fromkeys(_CALLER_FIELDS, True))

    @translated
    def live_with_user(self, session_id: str) -> tuple[Document, Document | None] | None:
        """The live session ``session_id`` and its user (None if gone), in one round trip."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"_id": session_id, "ended_at": None, "expires_at": {"$gt": utcnow()}}},
            {"$limit": 1},
            {"$lookup": {"from": "users", "localField": "user_id", "foreignField": "_id", "as": "user"}},
            {"$project": {"user_id": True, "created_at": True, **{f"user.{f}": True for f in _CALLER_FIELDS}}},
        ]
        found = list(self.collection.aggregate(pipeline))
        if not found:
            return None
        session = found[0]
        users = session.pop("user", [])
        return session, (users[0] if users else None)
