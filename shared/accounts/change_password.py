"""Change the password: prove the current one, store the new one, end every other session; and the
same request retried after a lost answer completes it."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.accounts.login_attempts import TOO_MANY_WRONG_PASSWORDS, PasswordGuard
from shared.accounts.models import PasswordChange, Token, UserInDB
from shared.accounts.passwords import hash_password, verify_password
from shared.accounts.reauthenticate import INCORRECT_PASSWORD
from shared.accounts.refresh_tokens import derived_session_token
from shared.accounts.reset_tokens import ResetTokenRepository
from shared.accounts.sessions import SessionRepository
from shared.accounts.token_pair import token_pair
from shared.accounts.users import UserRepository
from shared.config import jwt_secret, password_settings
from shared.errors import BadRequest, Unauthorized
from shared.ids import derived_id, epoch_ms, utcnow
from shared.metrics import Metric

SAME_PASSWORD = "The new password must differ from the current one"  # noqa: S105 - a message


def change_password(user_id: str, session_id: str, data: PasswordChange, *, client_address: str) -> Token:
    """Store the new password, end every session of the user, and start a new one for the caller.

    The new hash, ``sessions_valid_after`` (the cut) and ``password_changed_by`` (the caller's session)
    are one write, conditional on the old hash and on the account not being deleted: of two concurrent
    changes one wins and the other is told its current password is wrong, and no change lands on a
    tombstone. The cut is one millisecond after now, so every session created so far is before it; the
    new session is created at the cut itself, which counts as after.

    That write is the point of no return. Everything after it can be repeated: the same request retried
    (its current password no longer matches, but its new one does, and it comes from the session that
    made the change, which stays valid for PASSWORD_CHANGE_RETRY_SECONDS after the cut) finishes the
    change and answers the same new session, whose id and first refresh token derive from the change.

    The check counts against the same limits as a login of the account's email from ``client_address``
    (``PasswordGuard``): a stolen access token is no unthrottled password oracle. A retry that proves the
    new password counts as proof too.
    """
    users = UserRepository()
    user = users.get_with_hash(user_id)
    if user is None or not user.is_active:
        raise Unauthorized()
    guard = PasswordGuard(user.email, client_address, throttled=Metric.PASSWORD_CHECK_THROTTLED)
    guard.admit(TOO_MANY_WRONG_PASSWORDS)
    rounds = password_settings().bcrypt_rounds
    if verify_password(data.current_password, user.hashed_password, rounds=rounds):
        if data.new_password == data.current_password:
            raise BadRequest(SAME_PASSWORD)
        cut = utcnow() + timedelta(milliseconds=1)
        new_hash = hash_password(data.new_password, rounds=rounds)
        if not users.replace_password(
            user_id,
            old_hash=user.hashed_password,
            new_hash=new_hash,
            sessions_valid_after=cut,
            changed_by_session=session_id,
        ):
            raise BadRequest(INCORRECT_PASSWORD)
    elif _retried(user, session_id, data.new_password):
        assert user.sessions_valid_after is not None  # set by the change being retried
        cut = user.sessions_valid_after
    else:
        raise BadRequest(INCORRECT_PASSWORD)
    guard.proved()
    ResetTokenRepository().void_all(user_id)  # a reset link mailed before the change no longer works
    return _session_after_change(users, user_id, session_id, cut)


def _retried(user: UserInDB, session_id: str, new_password: str) -> bool:
    """Whether this is a retry of the change this session made: the stored hash is of ``new_password``."""
    if user.password_changed_by != session_id or user.sessions_valid_after is None:
        return False
    return verify_password(new_password, user.hashed_password, rounds=password_settings().bcrypt_rounds)


def _session_after_change(users: UserRepository, user_id: str, session_id: str, cut: datetime) -> Token:
    """End the other sessions, then start (or, for a retry, find again) the caller's new one.

    Dead already by the cut, the other sessions are marked ended here, which also ends one that a login
    which checked the old password just before the change started just after it (see
    ``shared.accounts.login.log_in``). The caller's old session is kept, for a retry within its grace.
    The account's deletion may start meanwhile: a session started after it began is removed here (the
    check comes after the insert, and deletion removes the sessions after marking the account), so no
    interleaving leaves a live session of a deleted account.
    """
    sessions = SessionRepository()
    new_session_id = derived_id("password_change", user_id, session_id, str(epoch_ms(cut)))
    sessions.end_all(user_id, reason="password_change", keep=(session_id, new_session_id))
    token = derived_session_token(new_session_id, key=jwt_secret())
    session = sessions.start_once(user_id, session_id=new_session_id, refresh_token=token, now=cut)
    if session is None:  # the new session has been used since: this is no retry of a lost answer
        raise BadRequest(INCORRECT_PASSWORD)
    if not users.is_active(user_id):
        sessions.remove(new_session_id)
        raise Unauthorized()
    return token_pair(session)
