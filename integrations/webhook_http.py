"""The one module that sends HTTP requests to customers' webhook URLs.

It connects to the address the SSRF guard checked (``integrations.ssrf.Target``), never
resolving the name again: urllib3's pool to the IP, with the URL's host as the Host
header and, for https, as the TLS server name and the name the certificate must carry.
No redirects are followed (a 3xx is a failed attempt, reported by the caller), no
retries here (the delivery schedule retries), and at most the first KB of the answer is
read. Tests replace the network, never this module: they run a real receiver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import certifi
import urllib3

from integrations.ssrf import Target

EXCERPT_BYTES = 1024


@dataclass(frozen=True)
class Answer:
    """What one attempt got: a status code (None when there was no answer), the time it
    took, the start of the answer's body, an error (empty on an answer) and the
    ``Retry-After`` header."""

    status_code: int | None
    duration_ms: int
    excerpt: str = ""
    error: str = ""
    retry_after: str | None = None


def post(target: Target, *, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    started = time.monotonic()
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=urllib3.Timeout(total=timeout),
            retries=False,
            maxsize=1,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            target.address, target.port, timeout=urllib3.Timeout(total=timeout), retries=False, maxsize=1
        )
    elapsed = lambda: int((time.monotonic() - started) * 1000)  # noqa: E731
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header, "Accept-Encoding": "identity"},
            redirect=False,
            retries=False,
            preload_content=False,
            decode_content=False,
            assert_same_host=False,
        )
        try:
            data = response.read(EXCERPT_BYTES)
        finally:
            response.close()
        return Answer(
            status_code=response.status,
            duration_ms=elapsed(),
            excerpt=data[:EXCERPT_BYTES].decode("utf-8", "ignore"),
            retry_after=response.headers.get("Retry-After"),
        )
    except urllib3.exceptions.HTTPError as exc:
        reason = "timeout" if isinstance(exc, urllib3.exceptions.TimeoutError) else type(exc).__name__
        return Answer(status_code=None, duration_ms=elapsed(), error=f"{reason}: {exc}"[:500])
    except OSError as exc:
        return Answer(status_code=None, duration_ms=elapsed(), error=f"{type(exc).__name__}: {exc}"[:500])
    finally:
        pool.close()
