"""A real HTTP server for the browser tests: the app in a thread of this process on a
free port, on the test database (real commits: ``committed``), static files served as
``runserver`` serves them."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application

from billing.tests.conftest import fake_stripe  # noqa: F401 - Stripe at the network boundary, for the billing page


@pytest.fixture
def owner(owner_a: Any) -> Any:
    """Tenant A's owner, signed in to the console."""
    from web.tests.helpers import console_client

    return console_client(owner_a)


@pytest.fixture
def main(in_a: Any) -> Any:
    """Tenant A's warehouse MAIN."""
    from inventory.tests.factories import make_warehouse

    return make_warehouse("MAIN")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def server(committed: None) -> Iterator[str]:
    httpd = ThreadedWSGIServer(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=False)
    httpd.set_app(StaticFilesHandler(get_wsgi_application()))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, through Playwright. Playwright's sync API runs an event
    loop in this thread, so the test's own ORM calls are allowed explicitly."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    if not os.path.exists(executable):
        pytest.fail(f"Chromium not found at {executable}: run the tests through `make test`, which installs it")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
