"""JSON rendering with orjson, byte for byte what DRF's ``JSONRenderer`` writes.

orjson serializes a page of results several times faster than ``json.dumps`` with DRF's
encoder class. Where the two could differ, this renderer leaves the work to DRF's:
values orjson does not know (``Decimal``, lazy strings, ...) go through DRF's encoder
(``default``), datetimes too (DRF writes ``Z`` for UTC, orjson ``+00:00``), and data
orjson refuses (integers beyond 64 bits, keys that are not strings) or a request for
indented output is rendered by DRF's renderer itself. Like DRF's, it escapes U+2028
and U+2029 so the output is also a valid JavaScript literal.
"""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_default = JSONEncoder().default
_LINE_SEPARATORS = (("\u2028".encode(), b"\\u2028"), ("\u2029".encode(), b"\\u2029"))


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=_default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        for separator, escaped in _LINE_SEPARATORS:
            if separator in body:
                body = body.replace(separator, escaped)
        return body
