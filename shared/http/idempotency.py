"""The ``Idempotency-Key`` header of ``POST /api/prompts``: its syntax and what its misuse is told.

What a key does is ``shared.prompts.create_prompt.create_prompt_once`` (the prompt's id derived from the
key) over ``shared.data.idempotency`` (the key's record). Plain constants and one check: no Powertools
idempotency utility, no jmespath, so a keyed request costs no extra imports.
"""

from __future__ import annotations

import re

from shared.errors import InvalidInput
from shared.http.contract import IDEMPOTENCY_KEY_HEADER

HEADER = IDEMPOTENCY_KEY_HEADER
KEY_PATTERN = r"^[\x20-\x7e]{1,255}$"
INVALID_KEY = "Must be 1 to 255 printable ASCII characters"
KEY_REUSED = f"This {HEADER} was used with another body in the last 24 hours; use a new key for a new request"


def checked_key(value: str) -> str:
    """``value`` when it is a valid key (1 to 255 printable ASCII characters), else a 422 on the header."""
    if not re.fullmatch(KEY_PATTERN, value):
        raise InvalidInput(INVALID_KEY, loc=("header", HEADER))
    return value
