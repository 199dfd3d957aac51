"""A URL configuration for core/tests/test_sentry.py: the site's, plus a view that fails."""

import logging

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns

logger = logging.getLogger("stockroom.tests")


def explode(request: HttpRequest) -> HttpResponse:
    """Logs an email and a token (a breadcrumb with extra data), then fails with both in its message."""
    token = request.headers.get("Authorization", "").partition(" ")[2]
    logger.warning(
        "looking up bob@example.com with password=hunter2-secret",
        extra={"customer_email": "carol@example.com", "lookup": f"token={token}"},
    )
    raise RuntimeError(f"cannot mail alice@example.com: bearer {token} refused, sk_live_{'4' * 24} unused")


urlpatterns = [path("tests/explode/", explode), *site_urlpatterns]
