#!/usr/bin/env bash
# The container image's entrypoint: one image, one argument says what the task runs.
#
#   web      gunicorn on 0.0.0.0:$PORT (8000), settings in config/gunicorn.py
#   worker   a Celery worker on both queues (celery, events)
#   beat     Celery beat, its schedule file in /tmp (the image's only writable place)
#   release  the one-off deploy task: `manage.py create_db_roles` when DATABASE_ADMIN_URL
#            is set (roles and database, idempotent), then `manage.py migrate` (as the owner
#            role of DATABASE_OWNER_URL)
#   other    exec'd as it is (`python manage.py shell`, `bash`, ...)
#
# Extra arguments after web/worker/beat are passed on (`worker --concurrency 2`).
# Settings: config.settings.production unless DJANGO_SETTINGS_MODULE says otherwise.
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")/.."
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.production}"
log_level="${LOG_LEVEL:-INFO}"

log() { printf 'container-entrypoint: %s\n' "$*" >&2; }

# prometheus_client's multiprocess mode keeps one file per process in this directory; files
# of a previous run would be summed into this one's counters, so each start deletes them.
fresh_metrics_dir() {
  if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -maxdepth 1 -type f -name '*.db' -delete
  fi
}

command="${1:-web}"
if [ "$#" -gt 0 ]; then shift; fi

case "$command" in
  web)
    fresh_metrics_dir
    exec gunicorn --config config/gunicorn.py config.wsgi:application "$@"
    ;;
  worker)
    fresh_metrics_dir
    exec celery --app config worker --queues celery,events --loglevel "$log_level" "$@"
    ;;
  beat)
    exec celery --app config beat --schedule /tmp/celerybeat-schedule --pidfile= --loglevel "$log_level" "$@"
    ;;
  release)
    if [ -n "${DATABASE_ADMIN_URL:-}" ]; then
      log "creating or updating the database roles (DATABASE_ADMIN_URL is set)"
      python manage.py create_db_roles
    else
      log "DATABASE_ADMIN_URL is not set: skipping create_db_roles"
    fi
    log "migrating"
    exec python manage.py migrate --no-input "$@"
    ;;
  *)
    exec "$command" "$@"
    ;;
esac
