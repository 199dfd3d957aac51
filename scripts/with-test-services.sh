#!/usr/bin/env bash
# Runs a command with PostgreSQL and Redis available for the test suite.
#
# DATABASE_URL / REDIS_URL set: used as they are (DATABASE_URL must be a role that
# may create roles and databases, e.g. the postgres superuser).
# Unset: a throwaway PostgreSQL cluster and Redis server are started on free
# 127.0.0.1 ports below 32768 from Debian's packages (installed when missing) and
# removed when the command ends.
set -euo pipefail

log() { printf '[test-services] %s\n' "$*" >&2; }

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

workdir=$(mktemp -d /tmp/stockroom-test-XXXXXX)
chmod 755 "$workdir"
cleanup() {
  set +e
  if [ -n "${PG_STARTED:-}" ]; then run_pg "$PGBIN/pg_ctl" -D "$workdir/pg" -m immediate stop >/dev/null 2>&1; fi
  if [ -f "$workdir/redis.pid" ]; then kill "$(cat "$workdir/redis.pid")" 2>/dev/null; fi
  rm -rf "$workdir"
}
trap cleanup EXIT

run_pg() {
  # initdb and postgres refuse to run as root: use the postgres system user then.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -z "${DATABASE_URL:-}" ]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    apt_install postgresql
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  if [ "$(id -u)" = 0 ]; then chown postgres "$workdir"; fi
  port=$(free_port 20000)
  run_pg "$PGBIN/initdb" -D "$workdir/pg" -U postgres -A trust --no-sync -E UTF8 >/dev/null
  run_pg "$PGBIN/pg_ctl" -D "$workdir/pg" -l "$workdir/pg.log" -w -o \
    "-p $port -k $workdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
  PG_STARTED=1
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  log "PostgreSQL $(basename "$(dirname "$PGBIN")") on 127.0.0.1:$port"
else
  log "using DATABASE_URL from the environment"
fi

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

"$@"
