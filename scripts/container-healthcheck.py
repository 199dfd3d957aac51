"""The container's HEALTHCHECK: exit 0 when the web server answers /healthz with 200.

Python's standard library only (the image has no curl). Django answers only host names
it serves (ALLOWED_HOSTS), so the request names the first of them, not 127.0.0.1.
"""

import os
import sys
import urllib.error
import urllib.request


def probe_host() -> str:
    first = os.environ.get("ALLOWED_HOSTS", "").split(",")[0].strip()
    if not first or first == "*":
        return "localhost"
    return first.lstrip(".")  # ".example.com" allows example.com itself too


def main() -> int:
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": probe_host()})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 - a fixed http URL
            ok = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
