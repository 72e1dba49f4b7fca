"""What the contract knows of this project, and its one door into the layer's package ``shared``.

The document's title, description and tags: one row per tag the functions' resolvers use
(``create_app("<tag>")``), in the order a reader meets them; ``contract.openapi`` refuses a tag without
a row, and a test a row without a function. The names both sides of the API spell alike (the bearer
scheme, the authorizer's context keys) come from ``shared.http.contract`` by name, so that a rename
fails in mypy. The version is read from the template's own ``shared`` inside a function, so that the
local API's docs page finds the package hot reload imported afresh.
"""

from __future__ import annotations

import sys
from pathlib import Path

from shared.http.contract import BEARER_SCHEME, CONTEXT_SESSION_ID, CONTEXT_USER_ID

__all__ = ["BEARER_SCHEME", "CONTEXT_SESSION_ID", "CONTEXT_USER_ID"]

TITLE = "Prompt API"
DESCRIPTION = (
    "Register and log in (bcrypt + JWT), then create, list, read, update and delete your own prompts; "
    "record status checks; ask for health. Protected routes take `Authorization: Bearer <token>` "
    'from `POST /api/login`. Every error body is `{"detail": ...}`.'
)
TAGS: tuple[tuple[str, str], ...] = (  # name, description; in the order a reader meets them
    ("auth", "Register, log in for a bearer token, and read your own account."),
    ("prompts", "Your own prompts: create, list, read, update, delete (bearer token)."),
    ("status", "Status checks any client may record and list."),
    ("health", "Is the API up, and can it reach its database?"),
)


def version(root: Path) -> str:
    """``shared.__version__`` of the project at ``root`` (the OpenAPI document's version)."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    import shared

    return shared.__version__
