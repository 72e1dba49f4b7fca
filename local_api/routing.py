"""Match a request path to a template resource, the way API Gateway's resource tree does.

At each segment a literal beats a ``{param}``, which beats a greedy ``{proxy+}``; the method
is then looked up on that one resource (exact method first, then ``ANY``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from local_api.template import Route

ANY = "ANY"
_LITERAL, _PARAM, _GREEDY = 0, 1, 2


@dataclass(frozen=True)
class Segment:
    """One path segment of a resource: a literal, a ``{name}`` or a greedy ``{name+}``."""

    kind: int
    text: str

    @classmethod
    def parse(cls, raw: str) -> Segment:
        """The segment a template path part stands for."""
        if raw.startswith("{") and raw.endswith("+}"):
            return cls(_GREEDY, raw[1:-2])
        if raw.startswith("{") and raw.endswith("}"):
            return cls(_PARAM, raw[1:-1])
        return cls(_LITERAL, raw)


def split_path(path: str) -> list[str]:
    """``/api/prompts/x`` -> ``["api", "prompts", "x"]``; the root is ``[]``."""
    stripped = path[1:] if path.startswith("/") else path
    return stripped.split("/") if stripped else []


@dataclass
class Resource:
    """A resource path of the API and the routes on it, by method."""

    path: str
    segments: tuple[Segment, ...]
    methods: dict[str, Route] = field(default_factory=dict)

    def match(self, parts: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
        """The match's rank (lower is more specific) and path parameters, or None."""
        params: dict[str, str] = {}
        rank: list[int] = []
        for index, segment in enumerate(self.segments):
            if segment.kind == _GREEDY:
                rest = parts[index:]
                if not rest or not all(rest):
                    return None
                params[segment.text] = unquote("/".join(rest))
                rank.append(_GREEDY)
                return tuple(rank), params
            if index >= len(parts) or not parts[index]:
                return None
            if segment.kind == _LITERAL and segment.text != parts[index]:
                return None
            if segment.kind == _PARAM:
                params[segment.text] = unquote(parts[index])
            rank.append(segment.kind)
        if len(parts) != len(self.segments):
            return None
        return tuple(rank), params

    def route_for(self, method: str) -> Route | None:
        """The route of ``method`` here, falling back to ``ANY``."""
        return self.methods.get(method) or self.methods.get(ANY)


@dataclass(frozen=True)
class Match:
    """The resource a path resolved to, with its path parameters."""

    resource: Resource
    params: dict[str, str]


class Router:
    """All resources of the served routes."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.resources: dict[str, Resource] = {}
        for route in routes:
            resource = self.resources.setdefault(
                route.path, Resource(route.path, tuple(Segment.parse(p) for p in split_path(route.path)))
            )
            if route.method in resource.methods:
                raise ValueError(f"{route.method} {route.path} is served by two functions")
            resource.methods[route.method] = route

    def match(self, path: str) -> Match | None:
        """The most specific resource matching ``path`` (raw, still percent-encoded)."""
        parts = split_path(path)
        best: tuple[tuple[int, ...], Resource, dict[str, str]] | None = None
        for resource in self.resources.values():
            found = resource.match(parts)
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], resource, found[1])
        return None if best is None else Match(best[1], best[2])
