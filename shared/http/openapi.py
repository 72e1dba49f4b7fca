"""What the OpenAPI document says of the responses routes share: the ``{"detail"}`` errors and the
bearer scheme."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from shared.http.contract import BEARER_SCHEME, RETRY_AFTER_HEADER
from shared.models import ErrorDetail

_ERROR_DESCRIPTIONS = {
    400: (
        "The request cannot be done as asked (a wrong current password, a new password equal to the old, "
        "an invalid, expired or spent reset token)."
    ),
    401: "Missing, invalid or expired bearer token, or wrong credentials.",
    403: "The account is inactive.",
    404: "Not found, or not the caller's.",
    409: "Conflicts with existing data (a registered email), or a request with this Idempotency-Key still runs.",
    429: (
        "Too many attempts: failed password checks for this email (from this client address, or from all), "
        "or password-reset requests (for this email, or from this client address); wait the `Retry-After` "
        "header's seconds."
    ),
    503: "The database cannot be reached.",
}

BEARER_AUTH: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]
"""The ``security`` of the routes behind the JWT authorizer (the scheme is in the merged document)."""


def error_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses for the ``{"detail": "..."}`` errors a route can answer with, beyond the
    ones every route of its resolver has (see ``DocumentedResolver``). Powertools adds 422 itself."""
    responses: dict[int, OpenAPIResponse] = {}
    for status in statuses:
        responses[status] = {
            "description": _ERROR_DESCRIPTIONS[status],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorDetail}},
        }
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            responses[status]["headers"] = {
                RETRY_AFTER_HEADER: {
                    "description": "Seconds until the window passes.",
                    "schema": {"type": "integer"},
                }
            }
    return responses
