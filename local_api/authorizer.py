"""The Lambda TOKEN authorizer, run the way API Gateway runs it.

The identity header must be present and match the ``ValidationExpression`` before the
function is called at all (401 otherwise). The returned policy is cached per token for
``ReauthorizeEvery`` seconds and evaluated against each request's method ARN: an explicit
Deny or no matching Allow is a 403. ``Exception("Unauthorized")`` is a 401; any other error
is the ``AUTHORIZER_FAILURE`` gateway response.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from local_api.template import Authorizer

logger = logging.getLogger(__name__)

UNAUTHORIZED = "UNAUTHORIZED"
ACCESS_DENIED = "ACCESS_DENIED"
AUTHORIZER_FAILURE = "AUTHORIZER_FAILURE"
AUTHORIZER_CONFIGURATION_ERROR = "AUTHORIZER_CONFIGURATION_ERROR"
_INVOKE_ACTIONS = ("execute-api:Invoke", "execute-api:*", "*")

InvokeAuthorizer = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Policy:
    """What the authorizer returned, checked for shape."""

    principal_id: str
    statements: tuple[Mapping[str, Any], ...]
    context: dict[str, Any]

    @classmethod
    def parse(cls, output: Any) -> Policy:
        """The policy in the authorizer's answer; ValueError when it is not one."""
        if not isinstance(output, dict) or not isinstance(output.get("principalId"), str):
            raise ValueError("the authorizer's answer has no principalId")
        document = output.get("policyDocument")
        statements = document.get("Statement") if isinstance(document, dict) else None
        if isinstance(statements, dict):
            statements = [statements]
        if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
            raise ValueError("the authorizer's answer has no policyDocument.Statement")
        context = output.get("context") or {}
        if not isinstance(context, dict) or any(isinstance(v, dict | list) for v in context.values()):
            raise ValueError("the authorizer's context must map names to strings, numbers or booleans")
        return cls(output["principalId"], tuple(statements), context)

    def effect_for(self, method_arn: str) -> str | None:
        """``"Deny"`` if a Deny statement matches, else ``"Allow"`` if an Allow does, else None."""
        effects = {
            str(s.get("Effect", "")).capitalize()
            for s in self.statements
            if _matches_any(s.get("Action"), _INVOKE_ACTIONS, literal=True)
            and _matches_any(s.get("Resource"), (method_arn,))
        }
        if "Deny" in effects:
            return "Deny"
        return "Allow" if "Allow" in effects else None

    def request_context(self, latency_ms: int) -> dict[str, Any]:
        """``requestContext.authorizer`` of the proxy event (REST APIs pass context values as strings)."""
        values = {k: _context_string(v) for k, v in self.context.items()}
        return {**values, "principalId": self.principal_id, "integrationLatency": latency_ms}


def _context_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@cache
def _pattern(glob: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in glob.split("*")) + r"\Z", re.DOTALL)


def _matches_any(patterns: Any, values: tuple[str, ...], *, literal: bool = False) -> bool:
    """Whether a policy ``Action``/``Resource`` (string or list, ``*`` wildcards) covers any value."""
    items = [patterns] if isinstance(patterns, str) else patterns if isinstance(patterns, list) else []
    for item in items:
        if literal and item in values:
            return True
        if not literal and any(_pattern(str(item)).match(v) for v in values):
            return True
    return False


class Clock:
    """Seconds on a clock that only moves forward, for the result cache's expiry; tests pass their own."""

    def time(self) -> float:
        return time.monotonic()


@dataclass(frozen=True)
class AuthOutcome:
    """The verdict for one request: its authorizer context, or the gateway response to send."""

    context: dict[str, Any] | None
    error: str | None
    note: str  # for the request log: invoked, cached, no token, invalid token...
    message: str | None = None


class TokenAuthorizers:
    """Runs TOKEN authorizers and keeps their result cache (per authorizer and token): a policy is
    served from it for the authorizer's ``ReauthorizeEvery`` seconds on ``clock``, then asked for again;
    0 caches nothing."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self._cache: dict[tuple[str, str], tuple[float, Policy]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every cached policy (after a reload, or when a test wants a clean slate)."""
        with self._lock:
            self._cache.clear()

    def authorize(
        self, authorizer: Authorizer, token: str | None, method_arn: str, invoke: InvokeAuthorizer
    ) -> AuthOutcome:
        """Check the identity source, get a policy (cached or fresh) and evaluate it."""
        if not token:
            return AuthOutcome(None, UNAUTHORIZED, "no token")
        if authorizer.validation is not None and not authorizer.validation.fullmatch(token):
            return AuthOutcome(None, UNAUTHORIZED, "token fails ValidationExpression")
        policy = self._cached(authorizer, token)
        note, latency_ms = "cached", 0
        if policy is None:
            started = time.perf_counter()
            result = self._invoke(authorizer, token, method_arn, invoke)
            if not isinstance(result, Policy):
                return result
            policy, note = result, "invoked"
            latency_ms = int((time.perf_counter() - started) * 1000)
            self._store(authorizer, token, policy)
        effect = policy.effect_for(method_arn)
        if effect == "Allow":
            return AuthOutcome(policy.request_context(latency_ms), None, note)
        message = "User is not authorized to access this resource"
        if effect == "Deny":
            message += " with an explicit deny"
        return AuthOutcome(None, ACCESS_DENIED, f"{note}, {effect or 'no Allow'} for {method_arn}", message)

    def _invoke(
        self, authorizer: Authorizer, token: str, method_arn: str, invoke: InvokeAuthorizer
    ) -> Policy | AuthOutcome:
        event = {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
        try:
            output = invoke(event)
        except Exception as e:
            if str(e) == "Unauthorized":
                return AuthOutcome(None, UNAUTHORIZED, "invoked, Unauthorized")
            logger.exception("Authorizer %s (%s) failed", authorizer.name, authorizer.function_id)
            return AuthOutcome(None, AUTHORIZER_FAILURE, f"invoked, failed: {type(e).__name__}")
        try:
            return Policy.parse(output)
        except ValueError as e:
            logger.error("Authorizer %s returned an invalid answer: %s", authorizer.name, e)
            return AuthOutcome(None, AUTHORIZER_CONFIGURATION_ERROR, "invoked, invalid answer")

    def _cached(self, authorizer: Authorizer, token: str) -> Policy | None:
        with self._lock:
            entry = self._cache.get((authorizer.name, token))
            if entry is None:
                return None
            expires, policy = entry
            if expires <= self.clock.time():
                del self._cache[(authorizer.name, token)]
                return None
            return policy

    def _store(self, authorizer: Authorizer, token: str, policy: Policy) -> None:
        if authorizer.ttl_s <= 0:
            return
        with self._lock:
            self._cache[(authorizer.name, token)] = (self.clock.time() + authorizer.ttl_s, policy)
