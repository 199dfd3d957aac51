"""Sentry (core/sentry.py) for real at the network boundary: a local HTTP server is the DSN's
host; an error in a view is sent to it as Sentry's SDK sends it, and the envelope received
must carry the tenant, request and trace ids and no email address or token anywhere."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk

from core import sentry
from tenants.tests.factories import client_for

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]  # only when the SDK chose it, which it does when brotli is installed

            body = brotli.decompress(body)
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def sentry_server(settings) -> Iterator[list[tuple[str, bytes]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SENTRY_DSN = f"http://public@127.0.0.1:{server.server_address[1]}/1"
    settings.STOCKROOM_ENVIRONMENT = "staging"
    settings.GIT_SHA = "0123abc"
    try:
        assert sentry.init()
        yield _Collector.received
    finally:
        sentry_sdk.flush(timeout=5)
        sentry_sdk.init(dsn=None)  # Sentry off again for the other tests
        server.shutdown()
        server.server_close()


def _events(received: list[tuple[str, bytes]]) -> list[dict]:
    events = []
    for path, body in received:
        assert path == "/api/1/envelope/"
        lines = body.split(b"\n")
        for index, line in enumerate(lines[1:], start=1):
            try:
                header = json.loads(line)
            except ValueError:
                continue
            if isinstance(header, dict) and header.get("type") == "event":
                events.append(json.loads(lines[index + 1]))
    return events


@pytest.mark.django_db
def test_an_error_reaches_sentry_tagged_and_without_personal_data(sentry_server, owner_a, tenant_a, settings):
    settings.ROOT_URLCONF = "core.tests.sentry_urls"
    client = client_for(owner_a)
    client.raise_request_exception = False
    token = client._credentials["HTTP_AUTHORIZATION"].partition(" ")[2]  # type: ignore[attr-defined]
    cookie_value = "sessionid-value-7f3a"
    client.cookies["sessionid"] = cookie_value

    response = client.post(
        "/tests/explode/?token=query-secret-5e1&email=dave%40example.com&page=2",
        {"password": "body-password-9d2", "email": "erin@example.com", "note": "hello"},
        format="json",
        HTTP_TRACEPARENT=TRACEPARENT,
        HTTP_X_REQUEST_ID="req-sentry-test-1",
        HTTP_X_API_KEY="srk_" + "A" * 38,
    )
    assert response.status_code == 500
    assert sentry_sdk.flush(timeout=10) is None

    received = b"".join(body for _, body in sentry_server)
    (event,) = [e for e in _events(sentry_server) if e.get("exception")]
    assert event["tags"]["tenant_id"] == str(tenant_a.id)
    assert event["tags"]["request_id"] == "req-sentry-test-1"
    assert event["tags"]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert event["environment"] == "staging" and event["release"] == "0123abc"
    assert "RuntimeError" in received.decode()  # the error itself did arrive
    assert b"[email]" in received  # and was scrubbed, not dropped
    for secret in (
        b"@example.com",
        token.encode(),
        token.split(".")[2].encode(),  # not even the JWT's signature alone
        b"hunter2-secret",
        b"query-secret-5e1",
        b"body-password-9d2",
        b"sk_live_4444",  # (the source line quoted in the stack frame says sk_live_ itself)
        b"srk_AAAA",
        cookie_value.encode(),
        b'127.0.0.1"',  # the client's address (REMOTE_ADDR)
    ):
        assert secret not in received, secret
    headers = {k.lower() for k in (event.get("request") or {}).get("headers", {})}
    assert not headers & {"authorization", "cookie", "x-api-key"}
    assert set(event.get("user") or {}) <= {"id"}


def test_without_a_dsn_sentry_is_not_started(settings):
    settings.SENTRY_DSN = ""
    assert sentry.init() is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("mail ann@example.co.uk now", "mail [email] now"),
        ("Authorization: Bearer abc.def.ghi", "Authorization: [Filtered]"),
        ("password=hunter2&page=2", "password=[Filtered]&page=2"),
        ("{'api_key': 'xyz123'}", "{'api_key': '[Filtered]'}"),
        ("key srk_" + "b" * 38, "key [Filtered]"),
        ("whsec_abcdefghijkl", "[Filtered]"),
        ("password=correct horse battery staple", "password=[Filtered]"),
        ('{"password": "two words"}', '{"password": "[Filtered]"}'),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: [Filtered]"),
        ("sent Basic dXNlcjpwYXNz upstream", "sent [Filtered] upstream"),
        (
            "could not connect: postgres://app:p%40ss!w0rd@db.internal:5432/x",
            "could not connect: postgres://app:[Filtered]@db.internal:5432/x",
        ),
        ("request 3f2c9a and trace 1-5759e988-bd862e3fe1be46a994272793", None),
    ],
)
def test_scrub_string(raw, expected):
    assert sentry.scrub_string(raw) == (raw if expected is None else expected)


def test_scrub_filters_sensitive_keys_everywhere():
    event = {
        "extra": {"password": "p", "nested": [{"refresh_token": "r", "count": 3}], "note": "x@y.io"},
        "breadcrumbs": {"values": [{"message": "hi z@q.org", "data": {"Cookie": "c"}}]},
        "user": {"id": "u1", "email": "u@v.com", "ip_address": "10.0.0.1"},
        "request": {"headers": {"Authorization": "Bearer t", "Accept": "json"}, "env": {"REMOTE_ADDR": "10.0.0.2"}},
    }
    scrubbed = sentry.scrub(event)
    assert scrubbed["extra"] == {
        "password": "[Filtered]",
        "nested": [{"refresh_token": "[Filtered]", "count": 3}],
        "note": "[email]",
    }
    assert scrubbed["breadcrumbs"]["values"][0] == {"message": "hi [email]", "data": {"Cookie": "[Filtered]"}}
    assert scrubbed["user"] == {"id": "u1"}
    assert scrubbed["request"] == {"headers": {"Accept": "json"}, "env": {}}


def test_a_task_s_error_is_tagged_with_the_tenant_of_its_arguments():
    event = {"extra": {"celery-job": {"task_name": "inventory.tasks.run_import", "kwargs": {"tenant_id": "t-123"}}}}
    assert sentry.scrub(event)["tags"]["tenant_id"] == "t-123"
    assert "tenant_id" not in sentry.scrub({"extra": {}})["tags"]
