"""``make migrate-seed``: convert, in place, a database the seed's FastAPI app wrote.

The seed gave every document an ObjectId ``_id`` (MongoDB's) and kept its own UUID in a string ``id``;
this API keeps the UUID in ``_id``. MongoDB cannot change an ``_id``, so each seed document is
converted on its own: a document in this API's shape is inserted under ``_id`` = the seed's ``id``
(remembering the seed's ObjectId in ``seed_object_id``), then the seed's document is deleted. So the
run is

- idempotent: converted documents no longer have an ObjectId ``_id``; a second run finds nothing to do;
- resumable: a run stopped anywhere (between the insert and the delete included) is finished by the
  next one, which recognises its own earlier insert by ``seed_object_id`` and only deletes the rest;
- careful: a document it cannot convert is left exactly as it was and reported, by ids and field
  names (never a value): one with a field missing or mistyped, or that this API would refuse
  (``invalid``, counted per reason), a user whose email is taken in any letter case by a user
  registered earlier, and a document whose ``id`` another one already has (``conflicts``). Re-run after
  fixing them by hand.

Only what the API itself would take is converted: each field a client sends is validated by the API's
own request model for it (``UserCreate``'s email and username, ``PromptCreate``'s content and response,
``StatusCheckCreate``'s client_name), so a converted document is one the API could have stored: a user
whose email is an address (registration's check: they can log in and recover), a prompt within the
limits that keep its owner's pages inside Lambda's response. What would be a 422 is ``invalid``, and the
value stored is the one the model gives (emails in lower case, usernames and client names stripped).

Users keep their ``id`` (so the ``user_id`` of their prompts, the seed's reference to it, stays
right), their bcrypt ``hashed_password`` as it was (``shared.accounts.passwords`` verifies it; the
first login re-hashes it at ``BCRYPT_ROUNDS``) and their ``created_at`` and ``is_active``; emails are
stored in lower case. Users are converted in order of registration, so of two seed users whose emails
differ only in letter case the first registered keeps it and the other is reported, never merged.

Before converting, the indexes that would refuse the conversion are dropped: the unique email index
(a seed user whose email is already lower case would collide with their own seed document) and any
index on the seed's ``id`` field (converted documents have none, so a unique one would refuse the
second). After converting, every index of ``shared.data.indexes`` is created, as ``make indexes``
does. Run it before the API takes traffic on that database: while the email index is gone, nothing
stops two registrations of one email (creating the index then fails, and says so).

It is an operator's tool, run as ``python -m shared.data.migrate_seed`` against MONGODB_URI and
MONGODB_DB_NAME; no function imports it.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from bson import ObjectId
from pydantic import TypeAdapter, ValidationError
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from shared.accounts.models import UserCreate
from shared.data.indexes import ensure_indexes
from shared.data.ownership import SEED_ID
from shared.models import RequestModel
from shared.prompts.models import PromptCreate
from shared.status.models import StatusCheckCreate

if TYPE_CHECKING:
    from pymongo.collection import Collection
    from pymongo.database import Database

Document = dict[str, Any]
_SEED_DOCUMENTS = {"_id": {"$type": "objectId"}}
_BATCH = 500

EXIT_OK, EXIT_ERROR, EXIT_LEFT = 0, 1, 3


class Invalid(ValueError):
    """Raised when a seed document lacks a field the conversion needs, has it of another type, or has a
    value the API would refuse."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.reason = f"{name} {problem}"
        """What the report counts: the field and its problem (``content too long``), never a value."""


def _counted(reasons: Counter[str]) -> str:
    return ", ".join(f"{reason}: {n}" for reason, n in reasons.most_common())


@dataclass
class CollectionReport:
    """What a run did to one collection."""

    converted: int = 0
    resumed: int = 0  # converted by an earlier run that stopped before deleting the seed document
    conflicts: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)  # why, for the invalid ones

    @property
    def left(self) -> int:
        return len(self.conflicts) + len(self.invalid)

    def summary(self) -> str:
        why = f" ({_counted(self.reasons)})" if self.reasons else ""
        return (
            f"{self.converted} converted, {self.resumed} finished from an earlier run, "
            f"{len(self.conflicts)} conflicts, {len(self.invalid)} invalid{why}"
        )


@dataclass
class Report:
    collections: dict[str, CollectionReport] = field(default_factory=dict)
    dropped_indexes: list[str] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    index_error: str | None = None  # why the indexes could not be created (while conflicts are left)
    orphan_prompts: int = 0  # prompts whose owner is no user of this API (yet)

    @property
    def left(self) -> int:
        return sum(c.left for c in self.collections.values())

    def unfinished(self) -> bool:
        """Whether anything is left for the operator: documents not converted, or no indexes."""
        return self.left > 0 or self.index_error is not None

    def lines(self) -> Iterator[str]:
        if self.dropped_indexes:
            yield f"dropped indexes in the way: {', '.join(self.dropped_indexes)}"
        for name, report in self.collections.items():
            yield f"{name}: {report.summary()}"
            yield from (f"  conflict: {line}" for line in report.conflicts)
            yield from (f"  invalid: {line}" for line in report.invalid)
        reasons = sum((c.reasons for c in self.collections.values()), Counter[str]())
        if reasons:
            yield f"invalid: {reasons.total()} ({_counted(reasons)})"
        if self.orphan_prompts:
            yield f"prompts whose user is not (yet) a user of this API: {self.orphan_prompts}"
        if self.indexes:
            yield f"indexes: {', '.join(self.indexes)}"
        if self.index_error:
            yield (
                f"indexes NOT created ({self.index_error}): a user left above has an email that is taken. "
                "Until it is fixed (change that document's email, or delete it) and this runs again, "
                "the API has no unique email index: keep it from taking registrations"
            )


# Each converter turns a seed document into this API's fields (without ``_id``), or raises Invalid.


def _string(doc: Document, name: str, *, nullable: bool = False) -> str | None:
    value = doc.get(name)
    if value is None and nullable:
        return None
    if not isinstance(value, str) or (not nullable and not value):
        raise Invalid(name, "missing" if name not in doc else type(value).__name__)
    return value


def _required(doc: Document, name: str) -> str:
    value = _string(doc, name)
    assert value is not None
    return value


_PROBLEMS = {"string_too_long": "too long", "string_too_short": "empty", "string_type": "not a string"}
"""What a request model's error means, as the report says it."""
_CHECKED = {"email": "not an address", "content": "blank"}
"""What the models' own validators check (a ``value_error``), per field: registration's address check
(``shared.accounts.models``), a prompt's text not blank (``shared.models.not_blank``)."""


@cache
def _request_field(model: type[RequestModel], name: str) -> TypeAdapter[Any]:
    """A validator of the field ``name`` of the request ``model``, exactly as the API validates it."""
    info = model.model_fields[name]
    field_type: Any = Annotated[info.annotation, info]  # the field's type with its constraints and validators
    return TypeAdapter(field_type)


def _as_requested(model: type[RequestModel], name: str, value: str | None) -> Any:
    """``value`` as the API takes the field ``name`` of its request ``model`` (its limits, its normal form:
    what the API would have stored); Invalid when the API would answer 422."""
    try:
        return _request_field(model, name).validate_python(value)
    except ValidationError as e:
        kind = e.errors(include_url=False, include_input=False)[0]["type"]
        raise Invalid(
            name, _CHECKED.get(name, "invalid") if kind == "value_error" else _PROBLEMS.get(kind, kind)
        ) from None


def _time(doc: Document, name: str, *, default: datetime | None = None) -> datetime:
    """A BSON date, or an ISO 8601 string (naive means UTC), at BSON's millisecond precision."""
    value = doc.get(name)
    if value is None and default is not None:
        return default
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid(name, "not an ISO 8601 time") from None
    if not isinstance(value, datetime):
        raise Invalid(name, "missing" if name not in doc else type(value).__name__)
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def _created(doc: Document, name: str) -> datetime:
    """``name``'s time; when the seed document has none, the time its ObjectId was made."""
    return _time(doc, name, default=doc["_id"].generation_time)


def _user(doc: Document) -> Document:
    is_active = doc.get("is_active", True)
    if not isinstance(is_active, bool):
        raise Invalid("is_active", type(is_active).__name__)
    return {
        "email": _as_requested(UserCreate, "email", _required(doc, "email")),
        "username": _as_requested(UserCreate, "username", _required(doc, "username")),
        "hashed_password": _required(doc, "hashed_password"),
        "created_at": _created(doc, "created_at"),
        "is_active": is_active,
    }


def _prompt(doc: Document) -> Document:
    created_at = _created(doc, "created_at")
    return {
        "user_id": _required(doc, "user_id"),
        "content": _as_requested(PromptCreate, "content", _required(doc, "content")),
        "response": _as_requested(PromptCreate, "response", _string(doc, "response", nullable=True)),
        "created_at": created_at,
        "updated_at": _time(doc, "updated_at", default=created_at),
    }


def _status_check(doc: Document) -> Document:
    client_name = _as_requested(StatusCheckCreate, "client_name", _required(doc, "client_name"))
    return {"client_name": client_name, "timestamp": _created(doc, "timestamp")}


def _convert(
    collection: Collection[Document],
    seed: Document,
    convert: Callable[[Document], Document],
    report: CollectionReport,
    *,
    check: Callable[[str, Document], str | None] | None = None,
) -> None:
    """Convert one seed document (insert this API's, then delete the seed's), or report why not."""
    label = f"{collection.name} {seed['_id']}"
    try:
        new_id = _required(seed, "id")
        fields = convert(seed)
    except Invalid as e:
        report.invalid.append(f"{label}: {e}")
        report.reasons[e.reason] += 1
        return
    label = f"{label} (id {new_id})"
    refusal = check(new_id, fields) if check is not None else None
    if refusal is not None:
        report.conflicts.append(f"{label}: {refusal}")
        return
    try:
        collection.insert_one({"_id": new_id, **fields, SEED_ID: seed["_id"]})
        report.converted += 1
    except DuplicateKeyError:
        existing = collection.find_one({"_id": new_id}, {SEED_ID: True})
        if existing is None or existing.get(SEED_ID) != seed["_id"]:
            report.conflicts.append(f"{label}: another document already has this id")
            return
        report.resumed += 1  # inserted by a run that stopped before the delete below
    collection.delete_one({"_id": seed["_id"]})


def _seed_documents(collection: Collection[Document]) -> Iterator[Document]:
    """The collection's seed documents in ``_id`` order, a batch at a time (a long run holds no cursor
    open between batches); documents left unconverted are passed, not read again."""
    after: ObjectId | None = None
    while True:
        query = _SEED_DOCUMENTS if after is None else {"_id": {"$type": "objectId", "$gt": after}}
        batch = list(collection.find(query).sort("_id", ASCENDING).limit(_BATCH))
        yield from batch
        if len(batch) < _BATCH:
            return
        after = batch[-1]["_id"]


def _drop_indexes_in_the_way(db: Database[Document]) -> list[str]:
    dropped = []
    for name in ("users", "prompts", "status_checks"):
        for index in list(db[name].list_indexes()):
            keys = list(index["key"])
            unique_email = name == "users" and keys == ["email"] and index.get("unique")
            if "id" in keys or unique_email:
                db[name].drop_index(index["name"])
                dropped.append(f"{name}.{index['name']}")
    return dropped


def migrate(db: Database[Document], report: Report | None = None) -> Report:
    """Convert every seed document of ``db`` (see the module's docstring), then create the indexes;
    what was done, in ``report`` (a new one by default) as it goes.

    Raises the driver's errors (an unreachable server, a user without rights): what is converted by
    then stays converted, and a new run goes on from there.
    """
    report = report if report is not None else Report()
    report.dropped_indexes = _drop_indexes_in_the_way(db)
    users = report.collections["users"] = CollectionReport()

    def email_is_free(user_id: str, fields: Document) -> str | None:
        # Among this API's users (string ids): the converted ones, and any registered here already.
        taken = db.users.find_one({"email": fields["email"], "_id": {"$type": "string", "$ne": user_id}}, {"_id": True})
        return None if taken is None else f"its email is taken, in any letter case, by user {taken['_id']}"

    # First registered first, so of two emails differing only in letter case the earlier user keeps it.
    def registered(doc: Document) -> tuple[datetime, ObjectId]:
        try:
            return _created(doc, "created_at"), doc["_id"]
        except Invalid:
            return doc["_id"].generation_time, doc["_id"]

    for seed in sorted(db.users.find(_SEED_DOCUMENTS), key=registered):
        _convert(db.users, seed, _user, users, check=email_is_free)

    prompts = report.collections["prompts"] = CollectionReport()
    for seed in _seed_documents(db.prompts):
        _convert(db.prompts, seed, _prompt, prompts)
    owners = {u["_id"] for u in db.users.find({"_id": {"$type": "string"}}, {"_id": True})}
    report.orphan_prompts = sum(
        1
        for p in db.prompts.find({"_id": {"$type": "string"}}, {"user_id": True})
        if not isinstance(p.get("user_id"), str) or p["user_id"] not in owners
    )

    checks = report.collections["status_checks"] = CollectionReport()
    for seed in _seed_documents(db.status_checks):
        _convert(db.status_checks, seed, _status_check, checks)

    try:
        report.indexes = [str(index) for index in ensure_indexes(db)]
    except OperationFailure as e:  # a duplicate email among the users left: said so, and exit status 3
        if not report.left:
            raise
        report.index_error = f"{type(e).__name__}, code {e.code}"
    return report


def main() -> int:
    """``make migrate-seed``: convert the seed's documents in MONGODB_DB_NAME at MONGODB_URI.

    Exit status 0 when every seed document is converted, 3 when some were left (listed), 1 on an error
    (one line when the database does not answer the first ping), 2 when the settings name no database or
    name it wrongly.
    """
    from shared.data.operator import EXIT_USAGE, Unreachable, UsageError, operator_database

    report = Report()
    try:
        with operator_database("make migrate-seed", purpose="the seed's database server") as database:
            migrate(database, report)
    except UsageError as e:
        sys.stderr.write(f"{e}\n")
        return EXIT_USAGE
    except Unreachable as e:  # nothing was done
        sys.stderr.write(f"{e}\n")
        return EXIT_ERROR
    except PyMongoError as e:
        sys.stdout.write("until the error:\n" + "".join(f"  {line}\n" for line in report.lines()))
        sys.stderr.write(
            f"make migrate-seed: {type(e).__name__}: {e}\n"
            "What was converted stays converted: run it again to go on from there.\n"
        )
        return EXIT_ERROR
    sys.stdout.write(f"{database.name}:\n" + "".join(f"  {line}\n" for line in report.lines()))
    if report.unfinished():
        sys.stdout.write(f"{report.left} seed documents were left as they were (above): fix them, then run it again\n")
        return EXIT_LEFT
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
