"""The ``status_checks`` collection."""

from __future__ import annotations

from shared.data.client import get_database, translated
from shared.data.pages import paginate, to_model
from shared.ids import new_id, utcnow
from shared.models import Page
from shared.status.models import StatusCheckPublic


class StatusCheckRepository:
    def __init__(self) -> None:
        self.collection = get_database().status_checks

    @translated
    def create(self, client_name: str) -> StatusCheckPublic:
        doc = {"_id": new_id(), "client_name": client_name, "timestamp": utcnow()}
        self.collection.insert_one(doc)
        return to_model(StatusCheckPublic, doc)

    @translated
    def list(self, *, limit: int, cursor: str | None) -> Page[StatusCheckPublic]:
        return paginate(
            self.collection, {}, time_field="timestamp", limit=limit, cursor=cursor, model=StatusCheckPublic
        )
