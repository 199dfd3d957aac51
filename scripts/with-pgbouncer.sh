#!/usr/bin/env bash
# Runs a command with a throwaway PgBouncer (transaction pooling) in front of the test server.
#
#   scripts/with-test-services.sh --pgbouncer CMD...   # the usual way: starts PostgreSQL and Redis too
#   DATABASE_URL=postgres://... scripts/with-pgbouncer.sh CMD...
#
# DATABASE_URL names the server the suite provisions (a role that may create roles and
# databases, as for with-test-services.sh): a socket directory (the embedded server) or a
# host and port. Debian's pgbouncer runs with its own configuration in a temporary directory,
# on a free 127.0.0.1 port, in transaction mode, with a pool small enough that the suite's
# client connections really share server connections. Exported for the command:
#   TEST_POOLER_URL        postgres://127.0.0.1:PORT (config/settings/test.py points the runtime
#                          and operations aliases at it; creation and migration stay direct)
#   TEST_POOLER_ADMIN_URL  PgBouncer's admin console (SHOW POOLS, SHOW SERVERS...)
#   TEST_DATABASE_NAME     the test database (unless already set): PgBouncer's [databases]
#                          names it, and "<name>_single" is the same database with a pool of one
#                          server connection (tenants/tests/test_pooling.py).
# TEST_POOLER_POOL_SIZE: server connections per database and role (default 3).
# Client authentication is SCRAM with the test roles' password; PgBouncer logs in to the
# server with the same password (or trust, as the embedded server's socket allows).
set -euo pipefail

log() { printf '[pgbouncer] %s\n' "$*" >&2; }
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}

if [ $# -eq 0 ]; then log "usage: $0 CMD..."; exit 2; fi
if [ -z "${DATABASE_URL:-}" ]; then
  log "DATABASE_URL is not set: run through scripts/with-test-services.sh --pgbouncer"; exit 2
fi
pgbouncer=$(command -v pgbouncer || true)
if [ -z "$pgbouncer" ] && [ -x /usr/sbin/pgbouncer ]; then pgbouncer=/usr/sbin/pgbouncer; fi
if [ -z "$pgbouncer" ]; then
  log "pgbouncer is not installed: scripts/with-test-services.sh --pgbouncer installs Debian's package"
  log "(or: apt-get install pgbouncer)"; exit 1
fi

# The server's address, and the roles and password the test settings use (one source: them).
eval "$(
  DJANGO_SETTINGS_MODULE=config.settings.test "$python" - <<'PY'
import secrets
import shlex
from urllib.parse import unquote, urlsplit

from django.conf import settings

url = urlsplit(settings.TEST_DATABASE_ADMIN_URL)
# urlsplit().hostname would lower-case a percent-encoded socket directory.
hostport = url.netloc.rpartition("@")[2]
host, _, port = hostport.rpartition(":") if not hostport.startswith("[") else hostport.partition("]:")
if not host:
    host, port = hostport, ""
values = {
    "server_host": unquote(host.strip("[]")) or "/var/run/postgresql",
    "server_port": port or "5432",
    "runtime_role": settings.TEST_ROLES["default"],
    "ops_role": settings.TEST_ROLES["ops"],
    "role_password": settings.TEST_ROLE_PASSWORD,
    "admin_password": secrets.token_hex(16),
}
for name, value in values.items():
    print(f"{name}={shlex.quote(value)}")
PY
)"

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

workdir=$(mktemp -d /tmp/stockroom-pgbouncer-XXXXXX)
cleanup() {
  set +e
  trap '' INT TERM HUP  # a second signal (devdb.py forwards the first) must not cut the clean-up short
  if [ -f "$workdir/pgbouncer.pid" ]; then
    pid=$(cat "$workdir/pgbouncer.pid")
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# PgBouncer refuses to run as root: as root it runs as the user that owns the server's socket
# directory (the embedded server's system user, who alone may use that socket), or as nobody
# for a server on TCP.
run_as=()
if [ "$(id -u)" = 0 ]; then
  user=nobody
  if [ "${server_host#/}" != "$server_host" ]; then user=$(stat -c %U "$server_host"); fi
  if [ "$user" = root ]; then log "cannot run pgbouncer as root (socket directory $server_host is root's)"; exit 1; fi
  chown "$user" "$workdir"
  run_as=(-u "$user")
fi

database=${TEST_DATABASE_NAME:-stockroom_test_pooled_$$}
pool_size=${TEST_POOLER_POOL_SIZE:-3}
port=$(free_port 24000)
admin=stockroom_pgbouncer_admin
server="host=$server_host port=$server_port dbname=$database"
cat >"$workdir/pgbouncer.ini" <<INI
[databases]
$database = $server
${database}_single = $server pool_size=1

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
pool_mode = transaction
default_pool_size = $pool_size
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 200
max_db_connections = 0
; A client waiting this long for a server connection fails instead of hanging the run.
query_wait_timeout = 60
auth_type = scram-sha-256
auth_file = $workdir/userlist.txt
admin_users = $admin
; psycopg sends neither; listed so that a client that does is not refused.
ignore_startup_parameters = extra_float_digits,options
; Transaction mode never runs it (it is for session mode): stated for the reader.
server_reset_query = DISCARD ALL
logfile = $workdir/pgbouncer.log
pidfile = $workdir/pgbouncer.pid
INI
{
  printf '"%s" "%s"\n' "$runtime_role" "$role_password"
  printf '"%s" "%s"\n' "$ops_role" "$role_password"
  printf '"%s" "%s"\n' "$admin" "$admin_password"
} >"$workdir/userlist.txt"
chmod 600 "$workdir/userlist.txt"
if [ ${#run_as[@]} -gt 0 ]; then chown "${run_as[1]}" "$workdir"/*; fi

"$pgbouncer" -q -d "${run_as[@]}" "$workdir/pgbouncer.ini"
up=
for _ in $(seq 100); do
  if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$port" \
    2>/dev/null; then up=1; break; fi
  sleep 0.1
done
if [ -z "$up" ]; then
  log "pgbouncer did not start:"; cat "$workdir/pgbouncer.log" >&2 2>/dev/null || true; exit 1
fi
log "$("$pgbouncer" --version | head -1) on 127.0.0.1:$port, transaction pooling, pools of $pool_size (and 1: ${database}_single) in front of $server_host:$server_port"

export TEST_DATABASE_NAME=$database
export TEST_POOLER_URL="postgres://127.0.0.1:$port"
export TEST_POOLER_ADMIN_URL="postgres://$admin:$admin_password@127.0.0.1:$port/pgbouncer"
status=0
"$@" || status=$?
if [ "$status" != 0 ]; then
  log "the command failed (exit $status); the end of PgBouncer's log:"
  tail -n 20 "$workdir/pgbouncer.log" >&2 || true
fi
exit "$status"
