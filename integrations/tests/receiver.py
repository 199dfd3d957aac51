"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 in a thread.

It checks each request's signature with its own implementation of Standard Webhooks
(hmac and base64 here, not the standardwebhooks package the sender uses), answers 401
when none of its secrets verifies, and otherwise answers as told: a status code, a
delay (to outlast the sender's timeout), extra headers (``Retry-After``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 300


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks: base64 HMAC-SHA256, keyed with the base64-decoded part of the
    ``whsec_`` secret, of ``{webhook-id}.{webhook-timestamp}.{body}``; any one of the
    space-separated ``v1,<signature>`` entries may match; the timestamp within 5 minutes."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    webhook_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for entry in headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str
    verified_by: list[str]  # the receiver's secrets that verify it
    answered: int


@dataclass
class Answer:
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"ok": true}'


class Receiver:
    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.secrets: list[str] = []
        self.received: list[Received] = []
        self.script: list[Answer] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    answer = receiver.script.pop(0) if receiver.script else Answer()
                    verified = [s for s in receiver.secrets if verify(s, headers, body)]
                    status = answer.status if verified or not receiver.secrets else 401
                    receiver.received.append(Received(headers, body, self.path, verified, status))
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up (its timeout)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "https" if tls else "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}/hooks/stockroom?source=test"

    def answer(self, *answers: Answer) -> None:
        """The next requests' answers, in order (then 200)."""
        with self._lock:
            self.script.extend(answers)

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
