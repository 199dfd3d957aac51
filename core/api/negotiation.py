"""Content negotiation with a short way for the Accept headers nearly every client sends.

The API renders JSON only. DRF's ``DefaultContentNegotiation`` parses the Accept header
into media types and ranks them on every request; for a request without a format
suffix or ``?format=`` whose Accept is absent, ``*/*`` or ``application/json`` its
answer is always the first renderer with its own media type, so that answer is given
without parsing. Anything else (parameters, several types, a type we do not render:
406) goes through DRF's negotiation unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

_PLAIN_ACCEPTS = frozenset({"", "*/*", "application/json"})


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        renderer: Any = renderers[0] if renderers else None
        if (
            renderer is not None
            and format_suffix is None
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
            and request.META.get("HTTP_ACCEPT", "").strip() in _PLAIN_ACCEPTS
            and renderer.media_type == "application/json"
        ):
            return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)
