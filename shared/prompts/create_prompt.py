"""The rule that no prompt outlives its owner, kept apart from the password and token code so that
creating a prompt imports neither bcrypt nor PyJWT."""

from __future__ import annotations

from contextlib import suppress

from shared.accounts.users import UserRepository
from shared.errors import NotFound, Unauthorized
from shared.metrics import Metric, count
from shared.prompts.models import PromptCreate, PromptPublic
from shared.prompts.prompts import PromptRepository


def create_owned_prompt(user_id: str, data: PromptCreate) -> PromptPublic:
    """Store a prompt for ``user_id``, but never one that outlives its owner.

    The caller may arrive with an Allow that API Gateway cached before the account was deleted, so
    the prompt is inserted first and the owner checked after. Deletion removes the user first and
    their prompts after. If the check here sees the user, the insert came before the user's deletion,
    hence before the deletion of their prompts, which removes it; if it does not, the prompt is removed
    here (a 401). Every interleaving ends with no orphan.
    """
    prompts = PromptRepository()
    prompt = prompts.create(user_id, data)
    if not UserRepository().is_active(user_id):
        with suppress(NotFound):  # the account's deletion may have removed it already
            prompts.delete(user_id, prompt.id)
        raise Unauthorized()
    count(Metric.PROMPT_CREATED)
    return prompt
