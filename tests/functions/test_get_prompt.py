from __future__ import annotations

from tests.support import create_prompt, invoke, load_event, register


def test_get_prompt_fixture_reads_the_callers_prompt() -> None:
    event = load_event("get_prompt")
    owner = event["requestContext"]["authorizer"]["user_id"]
    prompt = create_prompt(owner, "mine")

    result = invoke("get_prompt", path_params={"prompt_id": prompt["id"]}, user_id=owner)

    assert result.status == 200
    assert result.body == prompt


def test_get_prompt_missing_returns_404() -> None:
    result = invoke("get_prompt", load_event("get_prompt"))

    assert result.status == 404
    assert result.body == {"detail": "Prompt not found"}


def test_get_prompt_of_other_user_returns_404() -> None:
    ada, bob = register("ada@example.com"), register("bob@example.com")
    prompt = create_prompt(ada["id"], "ada's secret")

    result = invoke("get_prompt", path_params={"prompt_id": prompt["id"]}, user_id=bob["id"])

    assert result.status == 404
    assert result.body == {"detail": "Prompt not found"}
    assert "ada's secret" not in result.raw_body


def test_get_prompt_with_operator_like_id_is_just_not_found() -> None:
    user = register()
    create_prompt(user["id"])

    result = invoke("get_prompt", path_params={"prompt_id": '{"$ne": null}'}, user_id=user["id"])

    assert result.status == 404
