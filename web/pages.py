"""Rendering helpers shared by the web views: error pages and the page title."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}
MESSAGES = {
    400: "The request could not be read.",
    403: "You do not have access to this.",
    404: "There is nothing at this address, or you do not have access to it.",
    413: "The upload or form is too large.",
    429: "Too many requests. Wait a moment and try again.",
    500: "An error on our side. It has been logged; try again in a moment.",
    503: "The database cannot be reached just now. Your data is safe; try again in a moment.",
}


def error_page(request: HttpRequest, status: int, *, message: str = "") -> HttpResponse:
    """A plain page (it reads no database: it must render while the database is down)."""
    html = render_to_string(
        "web/error.html",
        {"status": status, "title": TITLES.get(status, "Error"), "message": message or MESSAGES.get(status, "")},
        request=request,
    )
    return HttpResponse(html, status=status)


def render_list(request: HttpRequest, template: str, partial: str, context: dict[str, Any]) -> HttpResponse:
    """A list page, or only its ``partial`` (the table) when HTMX asks for it. A history
    restore (back after the cache was emptied) gets the whole page; ``Vary: HX-Request``
    keeps the browser from serving one for the other."""
    htmx = getattr(request, "htmx", None)
    wants_partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    response = render(request, f"{template}#{partial}" if wants_partial else template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
