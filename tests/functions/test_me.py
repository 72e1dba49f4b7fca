from __future__ import annotations

from shared.data.client import get_database
from tests.support import invoke, register


def test_me_returns_the_caller_from_the_authorizer_context() -> None:
    user = register()

    result = invoke("me", user_id=user["id"])

    assert result.status == 200
    assert result.body == user
    assert "hashed_password" not in result.body


def test_me_without_authorizer_context_returns_401() -> None:
    result = invoke("me", user_id=None)

    assert result.status == 401
    assert result.body == {"detail": "Could not validate credentials"}


def test_me_for_a_deleted_user_returns_401() -> None:
    user = register()
    get_database().users.delete_one({"_id": user["id"]})

    result = invoke("me", user_id=user["id"])

    assert result.status == 401
