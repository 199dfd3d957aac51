"""Production settings: refuse to start when a secret is missing or unsafe."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import (
    ALLOWED_HOSTS,
    BENCH_FLOOR_VIEWS,
    DEBUG,
    INSECURE_SECRET_KEY,
    LOOPBACK_HOSTS,
    MIDDLEWARE,
    SECRET_KEY,
    SIMPLE_JWT,
    STORAGES,
    env,
)

if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=0).")
if not SECRET_KEY or SECRET_KEY == INSECURE_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters.")
if not env.str("ALLOWED_HOSTS", default="") or not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names this deployment serves.")
if not env.str("DATABASE_URL", default=""):
    # Unset means the development database (config/devdb.py): never in production.
    raise ImproperlyConfigured("DATABASE_URL must be set to the runtime role's PostgreSQL URL.")
if not env.str("EMAIL_URL", default=""):
    # Unset means the console backend: sign-up links, invitations and password-reset tokens
    # would go to the logs instead of the users. `consolemail://` set on purpose is allowed
    # (docker-compose on one machine).
    raise ImproperlyConfigured("EMAIL_URL must be set (smtp+tls://user:password@host:587, ...).")
if SIMPLE_JWT["SIGNING_KEY"] == INSECURE_SECRET_KEY:
    raise ImproperlyConfigured("JWT_SIGNING_KEY must not be the development default.")
if BENCH_FLOOR_VIEWS and not set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS:
    # The floor views skip the membership check and the throttle: only a benchmark on
    # 127.0.0.1 may route them, never a server reachable under a real host name.
    raise ImproperlyConfigured(
        "BENCH_FLOOR_VIEWS is for bench/run only: it requires ALLOWED_HOSTS to list loopback names only "
        f"({', '.join(sorted(LOOPBACK_HOSTS))})."
    )

# Static files (the API docs' assets) served by the app itself, after collectstatic.
_after_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
MIDDLEWARE = [
    *MIDDLEWARE[:_after_security],
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[_after_security:],
]

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The probes and the metrics scraper (a sidecar on localhost) speak plain HTTP to the task.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
# Files as base settings chose them (S3 or MEDIA_ROOT); static files through whitenoise.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
