"""A small fake of Stripe's API for the tests: a real HTTP server on 127.0.0.1 in a thread,
implementing only what billing calls (customers, Checkout and Portal sessions,
subscriptions retrieve and list, meter events). It records every request (method, path,
form parameters, the Idempotency-Key and Stripe-Version headers) and, like Stripe, answers a
POST repeated with the same idempotency key with the first answer. Subscriptions are
state the test sets (``subscription_put``), as Stripe's dashboard or a payment would."""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str | None
    stripe_version: str | None


class FakeStripe:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.customers: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.meter_events: list[dict[str, str]] = []
        self.sessions: dict[str, dict[str, Any]] = {}  # Checkout Sessions: a test may set "status"
        self.fail_with: int | None = None  # answer every request with this status (503: an outage)
        self._replies: dict[str, tuple[int, dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._run = secrets.token_hex(4)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- The test's side -------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._answer(self, "GET")

            def do_POST(self) -> None:
                fake._answer(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def posts(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.method == "POST" and call.path == path]

    def subscription_put(
        self,
        subscription_id: str,
        *,
        customer: str,
        status: str,
        price: str,
        tenant_id: str = "",
        trial_end: int | None = None,
        period_end: int | None = None,
        cancel_at_period_end: bool = False,
        created: int | None = None,
    ) -> dict[str, Any]:
        """Creates or replaces a subscription (as Stripe would have it after a change);
        returns it, as events carry it."""
        now = int(time.time())
        subscription = {
            "id": subscription_id,
            "object": "subscription",
            "customer": customer,
            "status": status,
            "created": created or now,
            "cancel_at_period_end": cancel_at_period_end,
            "trial_end": trial_end,
            "metadata": {"tenant_id": tenant_id} if tenant_id else {},
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": f"si_{subscription_id}",
                        "object": "subscription_item",
                        "price": {"id": price, "object": "price"},
                        "current_period_end": period_end or now + 30 * 86400,
                    }
                ],
            },
        }
        with self._lock:
            self.subscriptions[subscription_id] = subscription
        return json.loads(json.dumps(subscription))

    # --- The server's side ------------------------------------------------------------

    def _answer(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length).decode() if length else ""
        params = dict(parse_qsl(body if method == "POST" else parts.query, keep_blank_values=True))
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            self.calls.append(Call(method, parts.path, params, key, request.headers.get("Stripe-Version")))
            if self.fail_with is not None:
                status, reply = self.fail_with, _error("api_error", "The fake is down.", None)
            elif method == "POST" and key and key in self._replies:
                status, reply = self._replies[key]
            else:
                status, reply = self._route(method, parts.path, params)
                if method == "POST" and key and status < 500:
                    self._replies[key] = (status, reply)
        data = json.dumps(reply).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        if key:
            request.send_header("Idempotency-Key", key)
        request.end_headers()
        request.wfile.write(data)

    def _next(self, prefix: str) -> str:
        # Unique across fakes too, as Stripe's ids are (a restarted fake never repeats one).
        return f"{prefix}_{self._run}{next(self._ids):06d}"

    def _route(self, method: str, path: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if (method, path) == ("POST", "/v1/customers"):
            customer_id = self._next("cus")
            customer = {"id": customer_id, "object": "customer", "email": params.get("email")}
            self.customers[customer_id] = customer
            return 200, customer
        if (method, path) == ("POST", "/v1/checkout/sessions"):
            session_id = self._next("cs_test")
            session = {
                "id": session_id,
                "object": "checkout.session",
                "status": "open",
                "customer": params.get("customer"),
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            }
            self.sessions[session_id] = session
            return 200, session
        if path.startswith("/v1/checkout/sessions/"):
            session_id = path.split("/")[4]
            session_found = self.sessions.get(session_id)
            if session_found is None:
                return 404, _error("invalid_request_error", "No such checkout.session", "resource_missing")
            if method == "POST" and path.endswith("/expire"):
                if session_found["status"] != "open":
                    message = 'Only Checkout Sessions with a status in ["open"] can be expired.'
                    return 400, _error("invalid_request_error", message, None)
                session_found["status"] = "expired"
            return 200, session_found
        if (method, path) == ("POST", "/v1/billing_portal/sessions"):
            session_id = self._next("bps")
            return 200, {
                "id": session_id,
                "object": "billing_portal.session",
                "url": f"https://billing.stripe.com/p/session/{session_id}",
            }
        if (method, path) == ("POST", "/v1/billing/meter_events"):
            self.meter_events.append(params)
            return 200, {"object": "billing.meter_event", "identifier": params.get("identifier")}
        if method == "GET" and path == "/v1/subscriptions":
            found = [s for s in self.subscriptions.values() if s["customer"] == params.get("customer")]
            found.sort(key=lambda s: s["created"], reverse=True)
            return 200, {"object": "list", "data": found, "has_more": False, "url": "/v1/subscriptions"}
        if method == "GET" and path.startswith("/v1/subscriptions/"):
            subscription = self.subscriptions.get(path.rsplit("/", 1)[1])
            if subscription is None:
                return 404, _error("invalid_request_error", "No such subscription", "resource_missing")
            return 200, subscription
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path})", None)


def _error(kind: str, message: str, code: str | None) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, "code": code}}
