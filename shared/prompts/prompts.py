"""The ``prompts`` collection. Every query is scoped to one owner: another user's prompt is simply not
found."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.data.client import Document, get_database, retry_once, translated
from shared.data.ownership import owned_by
from shared.data.pages import from_document, paginate, to_model
from shared.errors import NotFound
from shared.ids import new_id, utcnow
from shared.models import Page
from shared.prompts.models import PromptCreate, PromptPublic


class PromptRepository:
    def __init__(self) -> None:
        self.collection = get_database().prompts

    @translated
    def create(self, user_id: str, data: PromptCreate, *, prompt_id: str | None = None) -> PromptPublic:
        """Store a new prompt. With ``prompt_id`` (an id derived from an idempotency key) at most once:
        when a prompt of the user already has that id, that prompt, as stored."""
        now = utcnow()
        doc = {
            "_id": prompt_id or new_id(),
            "user_id": user_id,
            **data.model_dump(),
            "created_at": now,
            "updated_at": now,
        }
        try:
            self.collection.insert_one(doc)
        except DuplicateKeyError:
            if prompt_id is None:
                raise
            return self.get(user_id, prompt_id)
        return to_model(PromptPublic, doc)

    @translated
    def list(self, user_id: str, *, limit: int, cursor: str | None) -> Page[PromptPublic]:
        return paginate(
            self.collection,
            {"user_id": user_id},
            time_field="created_at",
            limit=limit,
            cursor=cursor,
            model=PromptPublic,
        )

    @translated
    def get(self, user_id: str, prompt_id: str) -> PromptPublic:
        doc = self.collection.find_one({"_id": prompt_id, "user_id": user_id})
        return self._found(doc)

    @translated
    def update(self, user_id: str, prompt_id: str, changes: dict[str, Any]) -> PromptPublic:
        doc = self.collection.find_one_and_update(
            {"_id": prompt_id, "user_id": user_id},
            {"$set": {**changes, "updated_at": utcnow()}},
            return_document=ReturnDocument.AFTER,
        )
        return self._found(doc)

    def _found(self, doc: Document | None) -> PromptPublic:
        prompt = None if doc is None else from_document(PromptPublic, doc, collection=self.collection.name)
        if prompt is None:
            raise NotFound("Prompt not found")
        return prompt

    @translated
    def delete(self, user_id: str, prompt_id: str) -> None:
        if self.collection.delete_one({"_id": prompt_id, "user_id": user_id}).deleted_count == 0:
            raise NotFound("Prompt not found")

    @translated
    def delete_all(self, user_id: str) -> int:
        """Remove every prompt of the user; the number removed (retried once: ``retry_once``)."""
        return retry_once(lambda: self.collection.delete_many(owned_by(user_id))).deleted_count
