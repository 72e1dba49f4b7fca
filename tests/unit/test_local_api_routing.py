"""The local API's resource tree: which route a request path reaches."""

from __future__ import annotations

from local_api.routing import Router
from local_api.template import Route, SamApi


def test_router_prefers_literal_then_parameter_then_greedy() -> None:
    api = SamApi("Api", "prod")
    router = Router(
        [
            Route(api, "Literal", "/items/public", "GET", None),
            Route(api, "Param", "/items/{id}", "GET", None),
            Route(api, "Greedy", "/items/{proxy+}", "ANY", None),
        ]
    )

    def target(path: str) -> tuple[str, dict[str, str]] | None:
        match = router.match(path)
        if match is None:
            return None
        route = match.resource.route_for("GET")
        assert route is not None
        return route.function_id, match.params

    assert target("/items/public") == ("Literal", {})
    assert target("/items/a%2Fb") == ("Param", {"id": "a/b"})
    assert target("/items/a/b") == ("Greedy", {"proxy": "a/b"})
    assert target("/items") is None
    assert target("/other") is None
