"""The local API's TOKEN authorizer pieces: how a returned policy is read."""

from __future__ import annotations

import pytest

from local_api.authorizer import Policy

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc/prod"


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
