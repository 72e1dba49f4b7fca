"""Request bodies as the functions take them: JSON only, media types in any letter case, and every
body that cannot be parsed a 422 rather than a 500."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json_body(text: str) -> Any:
    """The request body as JSON; ``json.JSONDecodeError`` (a 422) for anything else.

    Beyond syntax errors, that is: nesting too deep for the parser, an integer too long to
    convert, ``NaN``/``Infinity`` (not JSON), and lone surrogates (valid escapes, but no string
    that can be stored). Each would otherwise escape as a 500.
    """
    try:
        value = json.loads(text, parse_constant=_no_constant)
        if _SURROGATE_ESCAPE.search(text):
            json.dumps(value, ensure_ascii=False).encode()  # UnicodeEncodeError on a lone surrogate
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as e:
        raise json.JSONDecodeError(f"Unparsable JSON ({type(e).__name__})", text, 0) from None
    return value


def lowercase_media_type(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """``event`` with its Content-Type's media type in lower case (Powertools compares it as is)."""
    headers = event.get("headers") or {}
    for name, value in headers.items():
        if name.lower() == "content-type" and isinstance(value, str):
            media_type, separator, parameters = value.partition(";")
            if media_type != media_type.lower():
                return {**event, "headers": {**headers, name: media_type.lower() + separator + parameters}}
    return event


def has_non_json_body(event: BaseProxyEvent) -> bool:
    content_type = event.headers.get("content-type") or ""  # Powertools headers are case-insensitive
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not event.body or not media_type:
        return False
    return media_type != "application/json" and not media_type.endswith("+json")
