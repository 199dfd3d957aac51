"""The container's HEALTHCHECK: exit 0 when the web server answers /healthz with 200.

Python's standard library only (the image has no curl). The probe goes to 127.0.0.1 by
address, as a load balancer's does: core.health.ProbeMiddleware answers it before Django
checks the host name against ALLOWED_HOSTS.
"""

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            ok = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
