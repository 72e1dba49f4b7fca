"""Names that two sides of the API must spell alike, defined once: what the authorizer puts in the
request context and the functions read back, the OpenAPI security scheme of the protected routes,
and the headers the functions read or send that the template's CORS must also name.

No imports: the authorizer, the HTTP functions, the OpenAPI generator and the local API all use it.
"""

from __future__ import annotations

CONTEXT_USER_ID = "user_id"
"""The authorizer context's key for the caller's user id (also the policy's ``principalId``)."""
CONTEXT_SESSION_ID = "sid"
"""The authorizer context's key for the access token's session."""

RETRY_ROUTES = {"delete_account": ("DELETE", "/api/me"), "change_password": ("POST", "/api/me/password")}
"""The one route the authorizer lets a session through to when that session may only retry what it
started (``shared.accounts.sessions.may_only_retry``): the request retried finishes it."""

BEARER_SCHEME = "bearerAuth"
"""The OpenAPI security scheme of the routes behind the JWT authorizer."""

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
RETRY_AFTER_HEADER = "Retry-After"
ALLOWED_REQUEST_HEADERS = ("Authorization", "Content-Type", IDEMPOTENCY_KEY_HEADER)
"""What a browser may send cross-origin (the functions' CORS and the template's must agree)."""
EXPOSED_RESPONSE_HEADERS = (RETRY_AFTER_HEADER,)
"""What a browser's script may read from a cross-origin response."""
ALLOWED_METHODS = ("GET", "POST", "PATCH", "DELETE", "OPTIONS")
"""What a CORS preflight allows on any path (PreflightFunction answers them all): every method the API
routes (tests/test_project.py)."""
