"""Idempotent writes: Powertools' Idempotency utility over a MongoDB collection.

A request that carries an ``Idempotency-Key`` runs through ``run_once``. The record of a key lives
in the ``idempotency`` collection for 24 hours (a TTL index on ``expiration``), under an ``_id``
that Powertools hashes from the route, the caller's user id and the key: keys of different users
never meet. The first request stores its response; the same key with the same body replays it,
with another body is a 422, and while the first request still runs a 409.

Importing this module imports Powertools' idempotency utility (and jmespath): a function imports
it only when a request carries a key, so its cold start does not pay for it otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS, DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from shared.data.client import Document, get_database, translate_errors
from shared.errors import Conflict, InvalidInput, ServiceUnavailable
from shared.http.contract import IDEMPOTENCY_KEY_HEADER

COLLECTION = "idempotency"
EXPIRES_AFTER_SECONDS = 24 * 60 * 60
HEADER = IDEMPOTENCY_KEY_HEADER
KEY_REUSED = f"This {HEADER} was used with another body in the last 24 hours; use a new key for a new request"
IN_PROGRESS = f"A request with this {HEADER} is still being processed; retry later"

ModelT = TypeVar("ModelT", bound=BaseModel)


# The persistence layer ------------------------------------------------------------------------


def _expiration(timestamp: int | None) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp or 0, dt.UTC)


class MongoPersistenceLayer(BasePersistenceLayer):
    """Powertools' idempotency records as documents of one MongoDB collection.

    ``{_id: <hashed key>, status, expiration (datetime, TTL), in_progress_expiry (epoch ms, while
    INPROGRESS), data (the stored response, JSON), validation (the body's hash)}``. Plain conditional
    single-document operations only (no transactions): the unique ``_id`` decides which of two
    concurrent first requests runs.
    """

    def __init__(self, collection: str = COLLECTION) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated
        self.collection_name = collection

    @property
    def collection(self) -> Collection[Document]:
        return get_database()[self.collection_name]

    def _document(self, record: DataRecord) -> Document:
        doc: Document = {
            "_id": record.idempotency_key,
            "status": record.status,
            "expiration": _expiration(record.expiry_timestamp),
        }
        if record.in_progress_expiry_timestamp is not None:
            doc["in_progress_expiry"] = record.in_progress_expiry_timestamp
        if self.payload_validation_enabled and record.payload_hash:
            doc["validation"] = record.payload_hash
        return doc

    @staticmethod
    def _record(doc: Document) -> DataRecord:
        expiration: dt.datetime = doc["expiration"]
        if expiration.tzinfo is None:  # a client without tz_aware returns naive UTC
            expiration = expiration.replace(tzinfo=dt.UTC)
        return DataRecord(
            idempotency_key=doc["_id"],
            status=doc["status"],
            expiry_timestamp=int(expiration.timestamp()),
            in_progress_expiry_timestamp=doc.get("in_progress_expiry"),
            response_data=doc.get("data") or "",
            payload_hash=doc.get("validation") or "",
        )

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with translate_errors():
            doc = self.collection.find_one({"_id": idempotency_key})
        if doc is None:
            raise IdempotencyItemNotFoundError
        return self._record(doc)

    def _put_record(self, data_record: DataRecord) -> None:
        """Insert the INPROGRESS record; over an existing one only when that one has expired, or is
        INPROGRESS past its in-progress expiry (its Lambda timed out). Otherwise, like Powertools'
        DynamoDB layer: IdempotencyValidationError for another body, else
        IdempotencyItemAlreadyExistsError carrying the existing record."""
        doc = self._document(data_record)
        now = dt.datetime.now(dt.UTC)
        with translate_errors():
            try:
                self.collection.insert_one(doc)
                return
            except DuplicateKeyError:
                pass
            taken_over = self.collection.find_one_and_replace(
                {
                    "_id": data_record.idempotency_key,
                    "$or": [
                        {"expiration": {"$lt": now}},
                        {
                            "status": STATUS_CONSTANTS["INPROGRESS"],
                            "in_progress_expiry": {"$lt": int(now.timestamp() * 1000)},
                        },
                    ],
                },
                doc,
            )
            if taken_over is not None:
                return
            existing = self.collection.find_one({"_id": data_record.idempotency_key})
        if existing is None:  # removed in between: Powertools reads it, finds nothing and retries
            raise IdempotencyItemAlreadyExistsError()
        old_data_record = self._record(existing)
        self._validate_payload(data_payload=data_record, stored_data_record=old_data_record)
        raise IdempotencyItemAlreadyExistsError(old_data_record=old_data_record)

    def _update_record(self, data_record: DataRecord) -> None:
        update: Document = {
            "status": data_record.status,
            "expiration": _expiration(data_record.expiry_timestamp),
            "data": data_record.response_data,
        }
        if self.payload_validation_enabled:
            update["validation"] = data_record.payload_hash
        with translate_errors():
            self.collection.update_one(
                {"_id": data_record.idempotency_key}, {"$set": update, "$unset": {"in_progress_expiry": ""}}
            )

    def _delete_record(self, data_record: DataRecord) -> None:
        with translate_errors():
            self.collection.delete_one({"_id": data_record.idempotency_key})


# Running a write once -------------------------------------------------------------------------

_store = MongoPersistenceLayer()
_config = IdempotencyConfig(
    event_key_jmespath="[user_id, key]",
    payload_validation_jmespath="body",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=EXPIRES_AFTER_SECONDS,
    hash_function="sha256",
)


def _call(*, request: dict[str, Any], write: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return write()


def run_once(
    write: Callable[[], ModelT],
    *,
    model: type[ModelT],
    scope: str,
    user_id: str,
    key: str,
    body: BaseModel,
    context: LambdaContext | None,
) -> ModelT:
    """``write()``'s result for the first request of ``user_id`` with ``key`` in ``scope`` (a route),
    and that same result, replayed without writing, for a repetition with the same ``body``.

    Conflict (409) while the first one runs, InvalidInput (422) for another body,
    ServiceUnavailable (503) when the idempotency records cannot be read or written. A ``write``
    that raises stores nothing, so the key can be retried.
    """
    request = {"user_id": user_id, "key": key, "body": body.model_dump(mode="json")}
    if context is not None:
        _config.register_lambda_context(context)  # an INPROGRESS record expires with this invocation
    once = idempotent_function(
        _call, data_keyword_argument="request", persistence_store=_store, config=_config, key_prefix=scope
    )
    try:
        result: dict[str, Any] = once(request=request, write=lambda: write().model_dump(mode="json"))
    except IdempotencyValidationError as e:
        raise InvalidInput(KEY_REUSED, loc=("header", HEADER), type="idempotency_key_reused") from e
    except IdempotencyAlreadyInProgressError as e:
        raise Conflict(IN_PROGRESS) from e
    except IdempotencyPersistenceLayerError as e:
        if isinstance(e.__cause__, ServiceUnavailable):
            raise e.__cause__ from e
        raise
    return model.model_validate(result)
