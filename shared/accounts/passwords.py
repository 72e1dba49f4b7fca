"""Password hashing (bcrypt). Tokens are in ``shared.accounts.access_tokens`` and ``shared.accounts.refresh_tokens``.

Passwords are hashed and checked in Unicode NFKC (``shared.accounts.models.normalized_password``), so a
password typed on another keyboard (a decomposed accent, a full-width letter) still matches. Hashes made
before normalisation, from the text as it was sent, are still accepted: the text as sent is tried when
its normalised form does not match, and the login that proves it re-hashes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import bcrypt

from shared.accounts.models import BCRYPT_MAX_BYTES, normalized_password

_COST = re.compile(r"^\$2[abxy]?\$(\d{2})\$")


def hash_password(password: str, *, rounds: int) -> str:
    """bcrypt hash of ``password`` in NFKC; raises ValueError past bcrypt's 72-byte limit."""
    encoded = normalized_password(password).encode()
    if len(encoded) > BCRYPT_MAX_BYTES:
        raise ValueError(f"password must be at most {BCRYPT_MAX_BYTES} bytes in UTF-8")
    return bcrypt.hashpw(encoded, bcrypt.gensalt(rounds=rounds)).decode()


@cache
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"dummy password, never matches", bcrypt.gensalt(rounds=rounds))


def _spend(rounds: int) -> None:
    """One bcrypt check at cost ``rounds`` that never matches: the time a check of a real hash takes."""
    bcrypt.checkpw(b"dummy", _dummy_hash(rounds))


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """What checking a password against a stored hash found."""

    matches: bool
    stale: bool = False
    """The password matched a hash that should be made again: at another cost than BCRYPT_ROUNDS, or
    made from the text as sent rather than its normalised form."""


NO_MATCH = PasswordCheck(matches=False)


def check_password(password: str, hashed: str | None, *, rounds: int) -> PasswordCheck:
    """Whether ``password`` matches ``hashed``, and whether that hash is stale.

    The time it takes tells neither whether there is a hash nor the cost it was made at: with no hash
    (an unknown user), or with an over-long password, it spends the bcrypt checks at ``rounds`` that a
    stored hash would cost; with a hash made at a lower cost it adds a check at ``rounds``, so an account
    still holding an old cheap hash answers as slowly as an unknown email. (A hash made at a *higher*
    cost than ``rounds`` stays slower until its next login re-hashes it: lower BCRYPT_ROUNDS rarely.)
    The text as sent is tried only when it differs from its normalised form, for unknown users too. A
    stored value that is not a bcrypt hash (a foreign or damaged document) is no match, never an error.
    """
    normal = normalized_password(password)
    forms = (normal,) if normal == password else (normal, password)
    cost = hash_cost(hashed) if hashed is not None else None
    if hashed is None or cost is None:
        for _ in forms:
            _spend(rounds)
        return NO_MATCH
    stored = hashed.encode()
    for form in forms:
        encoded = form.encode()
        if len(encoded) > BCRYPT_MAX_BYTES:
            _spend(rounds)
            continue
        try:
            matched = bcrypt.checkpw(encoded, stored)
        except ValueError:  # looks like bcrypt but is not (a damaged or foreign hash): no match
            matched = False
        if cost < rounds:
            _spend(rounds)
        if matched:
            return PasswordCheck(matches=True, stale=cost != rounds or form is not normal)
    return NO_MATCH


def verify_password(password: str, hashed: str | None, *, rounds: int) -> bool:
    """True when ``password`` matches ``hashed`` (see ``check_password`` for the time it takes)."""
    return check_password(password, hashed, rounds=rounds).matches


def hash_cost(hashed: str) -> int | None:
    """The bcrypt cost of ``hashed`` (the ``NN`` of ``$2b$NN$...``), None if it is not a bcrypt hash."""
    match = _COST.match(hashed)
    return int(match.group(1)) if match else None


def needs_rehash(hashed: str, *, rounds: int) -> bool:
    """Whether ``hashed`` was made at another cost than ``rounds`` (so a login should re-hash it)."""
    return hash_cost(hashed) != rounds
