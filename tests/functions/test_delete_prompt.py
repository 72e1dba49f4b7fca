from __future__ import annotations

from shared.data.client import get_database
from tests.support import create_prompt, invoke, load_event, register


def test_delete_prompt_fixture_deletes_and_returns_204() -> None:
    event = load_event("delete_prompt")
    owner = event["requestContext"]["authorizer"]["user_id"]
    prompt = create_prompt(owner)

    result = invoke("delete_prompt", path_params={"prompt_id": prompt["id"]}, user_id=owner)

    assert result.status == 204
    assert result.raw_body in (None, "")
    assert get_database().prompts.count_documents({}) == 0
    assert invoke("get_prompt", path_params={"prompt_id": prompt["id"]}, user_id=owner).status == 404


def test_delete_prompt_twice_returns_404_the_second_time() -> None:
    user = register()
    prompt = create_prompt(user["id"])
    invoke("delete_prompt", path_params={"prompt_id": prompt["id"]}, user_id=user["id"])

    result = invoke("delete_prompt", path_params={"prompt_id": prompt["id"]}, user_id=user["id"])

    assert result.status == 404
    assert result.body == {"detail": "Prompt not found"}


def test_delete_prompt_of_other_user_returns_404_and_keeps_it() -> None:
    ada, bob = register("ada@example.com"), register("bob@example.com")
    prompt = create_prompt(ada["id"])

    result = invoke("delete_prompt", path_params={"prompt_id": prompt["id"]}, user_id=bob["id"])

    assert result.status == 404
    assert get_database().prompts.count_documents({"_id": prompt["id"]}) == 1


def test_delete_prompt_without_authorizer_context_returns_401() -> None:
    assert invoke("delete_prompt", user_id=None).status == 401
