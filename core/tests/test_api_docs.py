"""The API docs pages load every asset from this application, nothing from another host."""

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""", re.IGNORECASE)
ANY_HOST = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_page_references_no_external_host(path):
    response = Client().get(path)
    assert response.status_code == 200
    html = response.content.decode()

    references = [a or b for a, b in URL.findall(html)]
    assert references, html
    for reference in references:
        assert not urlsplit(reference).netloc, reference
        if reference.startswith("/static/"):
            assert finders.find(reference.removeprefix("/static/")), f"{reference} is not served"
    assert ANY_HOST.findall(html) == [], "a host is named in the page (fonts, scripts, validator badge)"


@pytest.mark.django_db
def test_swagger_ui_validator_badge_is_off():
    # The start-up script is a file of its own (the split view: no inline script under the CSP).
    script = Client().get("/api/docs/?script=").content.decode()
    assert '"validatorUrl": null' in script
