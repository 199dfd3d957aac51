"""The site's error handlers (config/urls.py): the API keeps its JSON error shape, every
other address gets an HTML page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from core.api import exception_handler as api
from web.pages import error_page


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/healthz", "/readyz", "/bench/"))


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    response = api.json_400(request, exception)
    if _is_api(request):
        return response
    return error_page(request, response.status_code)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return api.json_403(request, exception)
    return error_page(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return api.json_404(request, exception)
    return error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return api.json_500(request)
    return error_page(request, 500)
