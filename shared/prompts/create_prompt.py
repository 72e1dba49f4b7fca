"""Creating a prompt: never one that outlives its owner, and with an ``Idempotency-Key`` at most one per
key. Kept apart from the password and token code so that creating a prompt imports neither bcrypt nor
PyJWT."""

from __future__ import annotations

from contextlib import suppress

from shared.accounts.users import UserRepository
from shared.data.idempotency import IdempotencyRecords, KeyReused, body_hash
from shared.errors import InvalidInput, NotFound, Unauthorized
from shared.http.idempotency import HEADER, KEY_REUSED
from shared.ids import derived_id
from shared.metrics import Metric, count
from shared.prompts.models import PromptCreate, PromptPublic
from shared.prompts.prompts import PromptRepository

SCOPE = "create_prompt"


def create_owned_prompt(user_id: str, data: PromptCreate, *, prompt_id: str | None = None) -> PromptPublic:
    """Store a prompt for ``user_id`` (under ``prompt_id`` when given), but never one that outlives its owner.

    The caller may arrive with an Allow that API Gateway cached before the account was deleted, so
    the prompt is inserted first and the owner checked after. Deletion marks the user deleted (inactive)
    first and removes their prompts after. If the check here sees the user active, the insert came before
    the deletion started, hence before the deletion of their prompts, which removes it; if it does not,
    the prompt is removed here (a 401). Every interleaving ends with no orphan; one whose check fails
    (a 503) leaves the prompt to its owner's deletion, or, once the owner is gone, to the sweep.
    """
    prompts = PromptRepository()
    prompt = prompts.create(user_id, data, prompt_id=prompt_id)
    if not UserRepository().is_active(user_id):
        with suppress(NotFound):  # the account's deletion may have removed it already
            prompts.delete(user_id, prompt.id)
        raise Unauthorized()
    count(Metric.PROMPT_CREATED)
    return prompt


def create_prompt_once(user_id: str, data: PromptCreate, *, key: str) -> PromptPublic:
    """``create_owned_prompt`` at most once per (user, ``key``) within 24 hours, whatever fails in between.

    1. Claim the key (``shared.data.idempotency``): the first use's time, or the first response to replay.
       Another body within the 24 hours is a 422.
    2. Store the prompt under an id derived from (user, key, first use): a second insert is a duplicate
       key, and reads back the prompt the first one stored. So a retry after any failure (the owner
       check, the completion, the function stopped) answers that same prompt, and concurrent requests
       with the key all answer it: none has to wait for another (no 409).
    3. Keep the response in the record, for replays.

    After 24 hours the record is claimed afresh, with a new first use: a new id, a new prompt.
    """
    body = data.model_dump(mode="json")
    records = IdempotencyRecords()
    try:
        claim = records.claim(scope=SCOPE, user_id=user_id, key=key, body=body_hash(body))
    except KeyReused as e:
        raise InvalidInput(KEY_REUSED, loc=("header", HEADER), type="idempotency_key_reused") from e
    if claim.response is not None:
        return PromptPublic.model_validate(claim.response)
    prompt_id = derived_id(SCOPE, user_id, key, str(claim.first_used_ms))
    prompt = create_owned_prompt(user_id, data, prompt_id=prompt_id)
    records.complete(scope=SCOPE, user_id=user_id, key=key, response=prompt.model_dump(mode="json"))
    return prompt
