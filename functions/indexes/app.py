"""Custom::MongoIndexes: CloudFormation's hook that creates the MongoDB indexes once per deploy.

CloudFormation calls it when the stack creates the resource and whenever an update changes the
resource's properties (the shared layer's version is one of them, so new index definitions are
applied by the deploy that ships them), and when the resource is deleted. Create and Update run
``shared.data.indexes.ensure_indexes`` on the stack's database; Delete drops nothing (the data and its
indexes outlive the stack).

CloudFormation always gets an answer, the JSON result PUT to the event's pre-signed ResponseURL:
SUCCESS, or FAILED with a short reason (no secret, no stack trace) so that the deploy stops and
rolls back. A timer answers FAILED shortly before the function would time out, since a function
that dies unanswered leaves the stack waiting.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

import pymongo
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pymongo.errors import OperationFailure

from shared.coldstart import initialized
from shared.data.client import get_database, translate_errors
from shared.data.indexes import REPLACED, REUSED, IndexConflict, ensure_indexes
from shared.errors import ConfigurationError, DatabaseRefused, ServiceUnavailable

logger = Logger()

SUCCESS = "SUCCESS"
FAILED = "FAILED"
ANSWER_SECONDS = 5.0  # of the function's time, kept for answering CloudFormation
PUT_TIMEOUT_SECONDS = 4.0
NEEDS_CREATE_INDEX = ": the database user needs the createIndex action"
MAX_REASON = 300  # CloudFormation shows it in the stack's events; the whole answer must stay under 4 KB


class Answer:
    """The one answer CloudFormation waits for, sent by whoever comes first: the handler or the timer."""

    def __init__(self, event: dict[str, Any], context: LambdaContext) -> None:
        self.event = event
        self.log_stream = context.log_stream_name
        self._lock = threading.Lock()
        self._sent = False

    def physical_resource_id(self) -> str:
        """The id CloudFormation already has (Update, Delete), else one derived from the stack: stable."""
        known = self.event.get("PhysicalResourceId")
        if known:
            return str(known)
        stack_name = str(self.event.get("StackId", "")).split(":stack/", 1)[-1].split("/", 1)[0]
        return f"{stack_name or 'stack'}-{self.event.get('LogicalResourceId', 'MongoIndexes')}"

    def send(self, status: str, reason: str = "", data: dict[str, str] | None = None) -> bool:
        """PUT the answer to ResponseURL, unless one was sent already; whether this call sent it."""
        with self._lock:
            if self._sent:
                return False
            self._sent = True
        if status == FAILED:
            reason = f"{reason} (log stream {self.log_stream})"[:MAX_REASON]
        body = {
            "Status": status,
            "Reason": reason or status,
            "PhysicalResourceId": self.physical_resource_id(),
            "StackId": self.event.get("StackId"),
            "RequestId": self.event.get("RequestId"),
            "LogicalResourceId": self.event.get("LogicalResourceId"),
            "Data": data or {},
        }
        put(str(self.event.get("ResponseURL", "")), json.dumps(body).encode())
        logger.info("Answered CloudFormation", extra={"status": status, "reason": reason})
        return True


def put(url: str, body: bytes) -> None:
    """PUT ``body`` to a pre-signed URL, as CloudFormation expects it: no content type."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("The event has no http(s) ResponseURL")
    # The URL is signed without a Content-Type: an empty one keeps urllib from adding its own.
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": ""})  # noqa: S310
    with urllib.request.urlopen(request, timeout=PUT_TIMEOUT_SECONDS) as response:  # noqa: S310 - checked above
        response.read()


def apply(request_type: str, seconds: float) -> dict[str, str]:
    """Do what the request asks within ``seconds``; the answer's Data."""
    if request_type == "Delete":
        logger.info("Delete: the indexes stay with the data")
        return {}
    if request_type not in ("Create", "Update"):
        raise ValueError(f"Unknown RequestType {request_type!r}")
    database = get_database()
    with translate_errors():
        database.command("ping")  # an unreachable server fails here, within the server-selection timeout
        # Index builds may take longer than one operation's socket timeout: pymongo.timeout gives the
        # block the time left instead, so that the driver still gives up before the function does.
        with pymongo.timeout(seconds):
            ensured = ensure_indexes(database)
    logger.info("Indexes ensured", extra={"database": database.name, "indexes": [str(e) for e in ensured]})
    data = {"Database": database.name, "Indexes": str(len(ensured))}
    # What a reader of the stack's events should know: an index of ours served by one made by hand (or
    # by the seed's app) under another name, and our indexes whose older definition was replaced.
    for key, outcome in (("Reused", REUSED), ("Replaced", REPLACED)):
        found = [f"{e.collection}.{e.found_as}" for e in ensured if e.outcome == outcome]
        if found:
            data[key] = ", ".join(found)
    return data


def success_reason(data: dict[str, str]) -> str:
    """The SUCCESS answer's reason: plain SUCCESS, unless an index was reused or replaced."""
    notes = [f"{key.lower()} {data[key]}" for key in ("Reused", "Replaced") if key in data]
    return f"{data['Indexes']} indexes ensured; {'; '.join(notes)}"[:MAX_REASON] if notes else SUCCESS


def reason_for(error: Exception) -> str:
    """A short reason for CloudFormation: what failed, never a secret or a stack trace."""
    if isinstance(error, DatabaseRefused):  # the credentials, or the rights: the server's code says which
        reason = f"MongoDB refused to create the indexes ({error.code_name})"
        return reason + NEEDS_CREATE_INDEX if error.code == DatabaseRefused.UNAUTHORIZED else reason
    if isinstance(error, IndexConflict):
        return str(error)  # which index stands in the way, and what to run
    if isinstance(error, ServiceUnavailable):
        return f"Indexes not (all) created: {error.detail}, or slower than the function's timeout"
    if isinstance(error, ConfigurationError):
        return str(error)  # names the variable to set, never its value
    if isinstance(error, OperationFailure):  # stored documents that break a unique index, say
        code = (error.details or {}).get("codeName") or error.code
        return f"MongoDB refused to create the indexes ({code})"
    return f"Indexes not created: {type(error).__name__}"


@initialized
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    answer = Answer(event, context)
    seconds = context.get_remaining_time_in_millis() / 1000 - ANSWER_SECONDS
    timer = threading.Timer(max(seconds, 0.0), answer.send, args=(FAILED, "Timed out creating the indexes"))
    timer.daemon = True
    timer.start()
    try:
        data = apply(str(event.get("RequestType")), max(seconds - 1.0, 0.1))
    except (ServiceUnavailable, ConfigurationError, OperationFailure, IndexConflict) as e:
        logger.error("Indexes not created", extra={"error": type(e).__name__})
        answer.send(FAILED, reason_for(e))
    except Exception as e:  # CloudFormation must get an answer, whatever went wrong
        logger.exception("Indexes not created: unexpected error")
        answer.send(FAILED, reason_for(e))
    else:
        answer.send(SUCCESS, success_reason(data), data=data)
    finally:
        timer.cancel()
