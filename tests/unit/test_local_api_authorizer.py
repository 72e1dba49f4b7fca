"""The local API's TOKEN authorizer pieces: how a returned policy is read, and how long it is cached."""

from __future__ import annotations

from typing import Any

import pytest

from local_api.authorizer import UNAUTHORIZED, Clock, Policy, TokenAuthorizers
from local_api.template import Authorizer

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc/prod"
METHOD_ARN = f"{ARN}/GET/api/me"


def test_policy_wildcards_and_explicit_deny() -> None:
    def policy(*statements: tuple[str, str]) -> Policy:
        return Policy.parse(
            {
                "principalId": "u",
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": effect, "Action": "execute-api:Invoke", "Resource": [resource]}
                        for effect, resource in statements
                    ],
                },
            }
        )

    allow_all = policy(("Allow", f"{ARN}/*/*"))
    allow_get = policy(("Allow", f"{ARN}/GET/*"))
    deny_delete = policy(("Allow", f"{ARN}/*"), ("Deny", f"{ARN}/DELETE/api/prompts/*"))

    assert allow_all.effect_for(f"{ARN}/POST/api/prompts") == "Allow"
    assert allow_get.effect_for(f"{ARN}/GET/api/prompts/1") == "Allow"
    assert allow_get.effect_for(f"{ARN}/POST/api/prompts") is None
    assert deny_delete.effect_for(f"{ARN}/DELETE/api/prompts/1") == "Deny"
    assert deny_delete.effect_for(f"{ARN}/GET/api/prompts/1") == "Allow"


def test_policy_without_principal_is_refused() -> None:
    with pytest.raises(ValueError, match="principalId"):
        Policy.parse({"policyDocument": {"Statement": []}})


class FrozenClock(Clock):
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        return self.now


class ScriptedAuthorizer:
    """The authorizer function: allows every call until ``refuse`` is set, and counts its invocations."""

    def __init__(self) -> None:
        self.calls = 0
        self.refuse = False

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.refuse:
            raise Exception("Unauthorized")
        statement = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{ARN}/*/*"}
        return {"principalId": "u", "policyDocument": {"Version": "2012-10-17", "Statement": [statement]}}


def _authorizer(ttl_s: int) -> Authorizer:
    return Authorizer(
        name="Jwt", function_id="AuthorizerFunction", header="Authorization", validation=None, ttl_s=ttl_s
    )


def _notes(authorizers: TokenAuthorizers, authorizer: Authorizer, invoke: ScriptedAuthorizer) -> str:
    outcome = authorizers.authorize(authorizer, "Bearer t", METHOD_ARN, invoke)
    return outcome.note if outcome.error is None else f"{outcome.note}: {outcome.error}"


def test_cached_policy_is_served_until_the_ttl_passes_then_asked_for_again() -> None:
    clock, invoke = FrozenClock(), ScriptedAuthorizer()
    authorizers, authorizer = TokenAuthorizers(clock), _authorizer(ttl_s=60)

    first = _notes(authorizers, authorizer, invoke)
    invoke.refuse = True  # the session ends: only a fresh call of the authorizer can tell
    clock.now += 59.999
    before_expiry = _notes(authorizers, authorizer, invoke)
    clock.now += 0.001
    at_expiry = _notes(authorizers, authorizer, invoke)

    assert (first, before_expiry) == ("invoked", "cached")
    assert at_expiry == f"invoked, Unauthorized: {UNAUTHORIZED}"
    assert invoke.calls == 2


def test_a_refused_token_is_not_cached() -> None:
    clock, invoke = FrozenClock(), ScriptedAuthorizer()
    authorizers, authorizer = TokenAuthorizers(clock), _authorizer(ttl_s=60)
    invoke.refuse = True

    refused = _notes(authorizers, authorizer, invoke)
    invoke.refuse = False
    allowed = _notes(authorizers, authorizer, invoke)

    assert (refused, allowed) == (f"invoked, Unauthorized: {UNAUTHORIZED}", "invoked")


def test_ttl_zero_never_caches() -> None:
    clock, invoke = FrozenClock(), ScriptedAuthorizer()
    authorizers, authorizer = TokenAuthorizers(clock), _authorizer(ttl_s=0)

    notes = [_notes(authorizers, authorizer, invoke) for _ in range(3)]

    assert notes == ["invoked"] * 3
    assert invoke.calls == 3
