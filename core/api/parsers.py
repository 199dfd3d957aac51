"""Request body parsers that refuse hostile input with a 4xx instead of failing later.

- ``JSONParser``: the body must be UTF-8 JSON nested at most ``MAX_JSON_DEPTH`` levels,
  with no lone UTF-16 surrogate (``"\\ud800"``) in any key or string: such a string
  cannot be stored, compared with PostgreSQL text or rendered back as UTF-8.
  Malformed bodies are 400 ``parse_error``.
- Both parsers refuse a body larger than the limit before reading it: 413
  ``request_too_large`` (JSON: ``DATA_UPLOAD_MAX_MEMORY_SIZE``; multipart: the
  upload limit ``IMPORT_MAX_BYTES`` plus ``DATA_UPLOAD_MAX_MEMORY_SIZE`` for the form).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers
from rest_framework.utils import json as drf_json

from core.api.errors import RequestTooLarge

# Deep enough for every request the API takes (an order's lines are three levels; free-form
# product attributes get the rest), shallow enough that nothing downstream recurses far.
MAX_JSON_DEPTH = 32
# A lone surrogate can only come from a \uD800-\uDFFF escape: a decoded UTF-8 body has none.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _content_length(parser_context: Mapping[str, Any] | None) -> int:
    request = (parser_context or {}).get("request")
    meta = getattr(request, "META", {})
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return 0


def _refuse_over(limit: int | None, parser_context: Mapping[str, Any] | None) -> None:
    if limit is not None and _content_length(parser_context) > limit:
        raise RequestTooLarge(f"The request body is larger than {limit} bytes.")


def _too_deep(value: Any) -> bool:
    """Whether ``value`` nests more than MAX_JSON_DEPTH containers (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _has_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        _refuse_over(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, parser_context)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise exceptions.ParseError(f"The body is not valid {encoding}.") from exc
        try:
            data = json.loads(text, parse_constant=drf_json.strict_constant if self.strict else None)
        except RecursionError as exc:
            raise exceptions.ParseError(f"JSON nested more than {MAX_JSON_DEPTH} levels.") from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        if (text.count("[") + text.count("{") > MAX_JSON_DEPTH) and isinstance(data, dict | list) and _too_deep(data):
            raise exceptions.ParseError(f"JSON nested more than {MAX_JSON_DEPTH} levels.")
        if _SURROGATE_ESCAPE.search(text) and _has_surrogate(data):
            raise exceptions.ParseError("JSON contains a lone UTF-16 surrogate (\\ud800-\\udfff), not a character.")
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        _refuse_over(settings.IMPORT_MAX_BYTES + (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0), parser_context)
        return super().parse(stream, media_type, parser_context)
