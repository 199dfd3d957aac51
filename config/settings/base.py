"""Settings shared by every environment, read from environment variables.

Every variable is listed in README.md. Unset ``DATABASE_URL`` means the
development database that ``make run`` starts (embedded PostgreSQL in
``.data/postgres``, config/devdb.py), with its owner and operations roles too;
production refuses to start without it. Unset ``REDIS_URL`` means a local-memory
cache and eager Celery.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from config import devdb, storage

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

INSECURE_SECRET_KEY = "insecure-dev-key-do-not-use-in-production"  # noqa: S105

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Benchmark only (bench/run, docs/performance.md): routes the raw-SQL floor and the plain-DRF
# reference views of bench/floor/ under /bench/. Production refuses it unless the server
# answers loopback host names only (config/settings/production.py).
BENCH_FLOOR_VIEWS = env.bool("BENCH_FLOOR_VIEWS", default=False)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

# Django's admin expects AuthenticationMiddleware and the auth context processor; the
# operations admin (config/admin.py) sets request.user itself from the console's session.
SILENCED_SYSTEM_CHECKS = ["admin.E402", "admin.E408"]

INSTALLED_APPS = [
    # The operations admin (config/admin.py): no default site, no autodiscovery.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "tenants",
    "inventory",
    "orders",
    "billing",
    "integrations",
    "demo",
    "web",
]

MIDDLEWARE = [
    # Outermost: request count, latency and queries by URL pattern (core/metrics_middleware.py).
    "core.metrics_middleware.RequestMetricsMiddleware",
    "core.logging.RequestIdMiddleware",
    "core.health.ProbeMiddleware",  # probes come by IP address: answered before host validation
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tenants.middleware.TenantMiddleware",
    "tenants.idempotency.IdempotencyMiddleware",
    "core.api.exception_handler.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "django.contrib.messages.context_processors.messages",
                "web.context.console",
            ],
        },
    },
]

# --- Databases --------------------------------------------------------------
# default: the runtime role (web and Celery). Not superuser, no BYPASSRLS, not the owner.
# owner:   the role that owns the tables and runs migrations (DATABASE_OWNER_URL).
# ops:     cross-tenant maintenance (BYPASSRLS), never on the request path (DATABASE_OPS_URL).
POSTGRES_ENGINE = "tenants.dbbackend"
_ALIASES = {"default": "runtime", "owner": "owner", "ops": "ops"}


def _database(url: str) -> dict[str, object]:
    config: dict[str, object] = env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"Stockroom runs on PostgreSQL only, not {url.split(':', 1)[0]}.")
    config["ENGINE"] = POSTGRES_ENGINE
    # A percent-encoded host is a Unix socket directory (the development database's).
    config["HOST"] = unquote(str(config["HOST"]))
    # Persistent connections (measured +43 % on the hot stock path, docs/performance.md);
    # safe with poolers and across tenants since app.tenant_id is transaction-local.
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    # A reused connection is checked (SELECT 1, one round trip) only when it sat idle for
    # DATABASE_HEALTH_CHECK_IDLE_SECONDS: a busy one skips it (tenants/dbbackend/base.py).
    config["CONN_HEALTH_CHECKS"] = True
    config["HEALTH_CHECK_IDLE_SECONDS"] = env.float("DATABASE_HEALTH_CHECK_IDLE_SECONDS", default=5.0)
    # Behind PgBouncer in transaction mode: ``.iterator()`` outside a transaction declares a
    # WITH HOLD cursor that stays on a server connection the next FETCH may not get; set it
    # there (docs/deploy.md, "Connection pooling"). RDS Proxy pins the session instead.
    config["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False)
    return config


# An empty DATABASE_URL counts as unset: then all three aliases are the development database's.
DEV_DATABASE_DIR = devdb.data_dir()
_urls = {alias: env.str(devdb.VARIABLES[role], default="") for alias, role in _ALIASES.items()}
if not _urls["default"]:
    _dev = devdb.urls(DEV_DATABASE_DIR)
    _urls = {alias: _dev[devdb.VARIABLES[role]] for alias, role in _ALIASES.items()}
DATABASES: dict[str, dict[str, object]] = {alias: _database(url) for alias, url in _urls.items() if url}
# A read replica (the runtime role on it: Row Level Security holds there as on the primary),
# for exports (core.db.read_alias); unset: they read the primary. It may lag by a moment.
if _replica_url := env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {**_database(_replica_url), "TEST": {"MIRROR": "default"}}
# Every request runs in one transaction: the database layer sets app.tenant_id
# transaction-locally at its start (see tenants/dbbackend/base.py).
DATABASES["default"]["ATOMIC_REQUESTS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tenants.User"

# --- Cache and Celery -------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CACHE_KEY_FUNCTION = "tenants.cache.make_key"
# Redis down (docs/architecture.md, "When a dependency is down"): a cache call gives up after
# REDIS_TIMEOUT_SECONDS; the counters then stay in each process for CACHE_RETRY_SECONDS.
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=1.0)
CACHE_RETRY_SECONDS = env.int("CACHE_RETRY_SECONDS", default=10)
# The tenant middleware's membership check, cached per (user, tenant) in Redis for at most
# this long (0: off); every change through the ORM invalidates it (tenants/membership_cache.py).
MEMBERSHIP_CACHE_SECONDS = env.int("MEMBERSHIP_CACHE_SECONDS", default=30)
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS, "socket_timeout": REDIS_TIMEOUT_SECONDS}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "stockroom",
            "KEY_FUNCTION": CACHE_KEY_FUNCTION,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": "stockroom",
            "KEY_FUNCTION": CACHE_KEY_FUNCTION,
        }
    }

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
# Worker and beat log through LOGGING below (one JSON object a line, like web), not
# Celery's own text format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Two queues: the domain-event relay on its own ("events"), everything else on the
# default one, so a backlog of webhook sends or imports never holds back the relay (and
# with it every subscriber of every tenant). A worker started without -Q consumes both
# (Celery polls its queues in turn); a deployment may run a worker for "events" alone.
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Each queue with its own exchange and routing key (tenants/tests/test_tasking.py checks
# on the real broker that each task lands in its queue, once).
CELERY_TASK_QUEUES = [
    Queue("celery", Exchange("celery"), routing_key="celery"),
    Queue("events", Exchange("events"), routing_key="events"),
]
CELERY_TASK_ROUTES = {"tenants.tasks.relay_events": {"queue": "events"}}

# Broker down (docs/architecture.md, "When a dependency is down"): a task that could not be
# queued is logged; its row stays pending and the dispatch sweeps (beat, every
# DISPATCH_SWEEP_SECONDS, on the ops alias) queue it again once DISPATCH_GRACE_SECONDS have
# passed since its last dispatch, up to DISPATCH_MAX_ATTEMPTS times.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS}
DISPATCH_SWEEP_SECONDS = env.int("DISPATCH_SWEEP_SECONDS", default=60)
DISPATCH_GRACE_SECONDS = env.int("DISPATCH_GRACE_SECONDS", default=300)
DISPATCH_MAX_ATTEMPTS = env.int("DISPATCH_MAX_ATTEMPTS", default=5)

# Queue the domain-event relay after a write commits (tenants/events.py); the beat sweep
# (EVENT_RELAY_SWEEP_SECONDS) catches what a kick missed.
EVENT_RELAY_KICK = env.bool("EVENT_RELAY_KICK", default=True)

# The event store (integrations/event_store.py): MongoDB when EVENT_STORE_URL is a mongodb://
# or mongodb+srv:// URL (collection "events" of its database), else the outbox table in
# PostgreSQL. EVENT_STORE_CLIENT is the client class (the tests put mongomock's there).
EVENT_STORE_URL = env("EVENT_STORE_URL", default="")
if EVENT_STORE_URL and not EVENT_STORE_URL.startswith(("mongodb://", "mongodb+srv://")):
    raise ImproperlyConfigured("EVENT_STORE_URL must be a mongodb:// or mongodb+srv:// URL, or empty (PostgreSQL).")
EVENT_STORE_RETENTION_DAYS = env.int("EVENT_STORE_RETENTION_DAYS", default=365)
if EVENT_STORE_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("EVENT_STORE_RETENTION_DAYS must be at least 1.")
EVENT_STORE_TIMEOUT_MS = env.int("EVENT_STORE_TIMEOUT_MS", default=2000)
EVENT_STORE_CLIENT = "pymongo.MongoClient"

# Safe retries (tenants/idempotency.py): a write's response is replayed to a retry with the
# same Idempotency-Key for this long; the beat sweep deletes older ones every so often.
IDEMPOTENCY_KEY_TTL_SECONDS = env.int("IDEMPOTENCY_KEY_TTL_SECONDS", default=24 * 3600)
IDEMPOTENCY_SWEEP_SECONDS = env.int("IDEMPOTENCY_SWEEP_SECONDS", default=3600)

# Outbound webhooks (integrations, docs/integrations.md "Webhooks"). Retries after a failed
# attempt wait these many seconds (with jitter), a Retry-After is honoured up to the cap, and
# an endpoint failing for WEBHOOK_DISABLE_AFTER_SECONDS is disabled. Private, loopback and
# other internal addresses are refused unless WEBHOOKS_ALLOW_PRIVATE_TARGETS (tests, local use).
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=15.0)
WEBHOOK_RETRY_SCHEDULE_SECONDS = env.list(
    "WEBHOOK_RETRY_SCHEDULE_SECONDS", cast=float, default=[5, 300, 1800, 7200, 18000, 36000, 36000]
)
WEBHOOK_RETRY_AFTER_MAX_SECONDS = env.float("WEBHOOK_RETRY_AFTER_MAX_SECONDS", default=36000.0)
WEBHOOK_DISABLE_AFTER_SECONDS = env.float("WEBHOOK_DISABLE_AFTER_SECONDS", default=5 * 24 * 3600.0)
WEBHOOK_SECRET_OVERLAP_SECONDS = env.float("WEBHOOK_SECRET_OVERLAP_SECONDS", default=24 * 3600.0)
WEBHOOK_SWEEP_SECONDS = env.float("WEBHOOK_SWEEP_SECONDS", default=30.0)
# Finished webhook messages and their delivery log are deleted after this many days.
WEBHOOK_LOG_RETENTION_DAYS = env.int("WEBHOOK_LOG_RETENTION_DAYS", default=30)

CELERY_BEAT_SCHEDULE = {
    "redispatch-pending-jobs": {"task": "inventory.tasks.redispatch_pending_jobs", "schedule": DISPATCH_SWEEP_SECONDS},
    "redispatch-pending-emails": {
        "task": "tenants.tasks.redispatch_pending_emails",
        "schedule": DISPATCH_SWEEP_SECONDS,
    },
    "delete-expired-idempotency-keys": {
        "task": "tenants.tasks.delete_expired_idempotency_keys",
        "schedule": IDEMPOTENCY_SWEEP_SECONDS,
    },
    "low-stock-scan": {"task": "inventory.tasks.low_stock_scan", "schedule": 15 * 60},
    # The safety net of the domain-event relay (tenants/events.py): kicks lost with the broker.
    "relay-sweep": {"task": "tenants.tasks.relay_sweep", "schedule": env.float("EVENT_RELAY_SWEEP_SECONDS", default=5)},
    # Webhook messages whose send task was lost (broker down, worker killed mid-attempt).
    "webhook-sweep": {"task": "integrations.tasks.webhook_sweep", "schedule": WEBHOOK_SWEEP_SECONDS},
    "delete-old-webhook-messages": {"task": "integrations.tasks.delete_old_webhook_messages", "schedule": 3600},
    # Billing (docs/billing.md): Stripe events whose processing task was lost or failed; the
    # meter reports still unsent; the daily re-sync of every subscription from Stripe.
    "stripe-event-sweep": {"task": "billing.tasks.stripe_event_sweep", "schedule": 60},
    "send-meter-reports": {"task": "billing.tasks.send_meter_reports", "schedule": 300},
    "announce-grace-ends": {"task": "billing.tasks.announce_grace_ends", "schedule": 900},
    "reconcile-subscriptions": {
        "task": "billing.tasks.reconcile_subscriptions",
        "schedule": crontab(hour=env.int("BILLING_RECONCILE_HOUR_UTC", default=3), minute=30),
    },
    "low-stock-digest": {
        "task": "inventory.tasks.low_stock_digest",
        "schedule": crontab(hour=env.int("LOW_STOCK_DIGEST_HOUR_UTC", default=7), minute=0),
    },
}

# --- Observability (docs/observability.md) ----------------------------------------
# The deployment's name (staging, production): Sentry's environment and the CloudWatch
# metrics' Environment dimension. Set: the EMF metrics are published every 60 s by beat.
STOCKROOM_ENVIRONMENT = env.str("STOCKROOM_ENVIRONMENT", default="")
# Prometheus: GET /metrics with "Authorization: Bearer <METRICS_TOKEN>"; unset, no such page.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# The Celery worker's internal metrics listener (core/celery_metrics.py); 0: none.
CELERY_METRICS_PORT = env.int("CELERY_METRICS_PORT", default=0)
CELERY_METRICS_ADDR = env.str("CELERY_METRICS_ADDR", default="0.0.0.0")  # noqa: S104 - internal-only port
# The cross-tenant reads behind the outbox lag and the webhook failures give up after this.
METRICS_STATEMENT_TIMEOUT_MS = env.int("METRICS_STATEMENT_TIMEOUT_MS", default=2000)
# Sentry (core/sentry.py): errors when SENTRY_DSN is set, personal data scrubbed.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
# The release Sentry reports (the image's commit, set by the build).
GIT_SHA = env.str("GIT_SHA", default="")
# With STOCKROOM_ENVIRONMENT set, beat publishes the CloudWatch metrics (core/emf.py) from a
# thread of its own this often (core/celery_metrics.py, on_beat_init), not as a queued task.
CLOUDWATCH_METRICS_SECONDS = env.float("CLOUDWATCH_METRICS_SECONDS", default=60.0)

# --- Files: imports and exports (config/storage.py, docs/deploy.md "Files") -----------
# An S3 bucket when AWS_STORAGE_BUCKET_NAME is set, else the filesystem under MEDIA_ROOT:
# decided here once, for development, tests and production alike.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=100_000_000)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5_000_000
STORAGES = {
    "default": storage.default_storage_config(env, spool_bytes=FILE_UPLOAD_MAX_MEMORY_SIZE),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Auth ---------------------------------------------------------------------
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
INVITATION_TTL = timedelta(days=env.int("INVITATION_TTL_DAYS", default=7))
# How long an emailed link to verify the address works.
EMAIL_VERIFICATION_TTL = timedelta(days=env.int("EMAIL_VERIFICATION_TTL_DAYS", default=7))
# Failed logins before an account (or an IP address) is locked out, and for how long.
LOGIN_MAX_FAILURES_PER_ACCOUNT = env.int("LOGIN_MAX_FAILURES_PER_ACCOUNT", default=5)
LOGIN_MAX_FAILURES_PER_IP = env.int("LOGIN_MAX_FAILURES_PER_IP", default=50)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# --- Email --------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Stockroom <no-reply@stockroom.local>")
# Where links in emails point (the web app; the API accepts the same tokens).
FRONTEND_URL = env.str("FRONTEND_URL", default="http://127.0.0.1:8000")

# --- Billing: Stripe (billing/, docs/billing.md) ------------------------------------
# No secret key: "free only" mode (checkout and portal answer 503 billing_not_configured).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Another Stripe API server (a local fake, stripe-mock); empty: Stripe's own.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# The Stripe price each paid plan is sold at (billing/plans.py).
STRIPE_PRICE_STARTER = env.str("STRIPE_PRICE_STARTER", default="")
STRIPE_PRICE_PRO = env.str("STRIPE_PRICE_PRO", default="")
STRIPE_PRICE_ENTERPRISE = env.str("STRIPE_PRICE_ENTERPRISE", default="")
# Days a past-due subscription keeps its plan before the workspace gets the free plan's limits.
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=7)
# A Stripe Billing Meter's event name: sales orders are reported to it; empty: no usage reporting.
BILLING_METER_EVENT_NAME = env.str("BILLING_METER_EVENT_NAME", default="")
# Where Stripe sends the owner back ({site}: FRONTEND_URL, {slug}: the workspace's slug).
BILLING_SUCCESS_URL = env.str("BILLING_SUCCESS_URL", default="{site}/app/{slug}/settings/billing/?checkout=success")
BILLING_CANCEL_URL = env.str("BILLING_CANCEL_URL", default="{site}/app/{slug}/settings/billing/?checkout=cancelled")
BILLING_PORTAL_RETURN_URL = env.str("BILLING_PORTAL_RETURN_URL", default="{site}/app/{slug}/settings/billing/")

# API keys: expiry when none is asked for, and the longest allowed (days).
API_KEY_DEFAULT_DAYS = 90
API_KEY_MAX_DAYS = 365

# --- REST framework and OpenAPI ---------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenants.auth.TenantJWTAuthentication", "tenants.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.permissions.TenantRolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["core.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.negotiation.ContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "core.api.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "core.api.filters.OrderingFilter",
    ],
    "EXCEPTION_HANDLER": "core.api.exception_handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttling.AnonRateThrottle",
        "core.api.throttling.UserRateThrottle",
        "core.api.throttling.ScopedRateThrottle",
        "core.api.throttling.ApiKeyRateThrottle",
        "tenants.api.throttling.PlanRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="6000/min"),
        "api_key": env.str("THROTTLE_API_KEY", default="6000/min"),
        "signup": env.str("THROTTLE_SIGNUP", default="20/hour"),
        "password_reset": env.str("THROTTLE_PASSWORD_RESET", default="10/hour"),
        "password_change": env.str("THROTTLE_PASSWORD_CHANGE", default="10/hour"),
        "email_verification": env.str("THROTTLE_EMAIL_VERIFICATION", default="5/hour"),
        # Per connector: Shopify's deliveries of one shop (integrations.api.views.ConnectorWebhookThrottle).
        "connector_webhook": env.str("THROTTLE_CONNECTOR_WEBHOOK", default="600/min"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Stockroom API",
    "DESCRIPTION": (
        "Multi-tenant inventory and order management. Authenticate with "
        "`POST /api/v1/auth/token/` and send `Authorization: Bearer <access>`. "
        "Every error has the shape of the `Error` component; see docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The docs pages load nothing from another host (tested): no validator badge from
    # validator.swagger.io, no web fonts (core/templates/core/redoc.html).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
                "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
                "code": {"fontFamily": "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"},
            }
        }
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "tenants.models.Role",
        "TenantStatusEnum": "tenants.models.TenantStatus",
        "MovementKindEnum": "inventory.models.MovementKind",
        "ExportKindEnum": "inventory.models.ExportKind",
        "JobStatusEnum": "inventory.models.JobStatus",
        "UnitEnum": "inventory.models.Unit",
        "SalesStatusEnum": "orders.models.SalesStatus",
        "PurchaseStatusEnum": "orders.models.PurchaseStatus",
        "DispositionEnum": "orders.models.ReturnDisposition",
        "ConnectorKindEnum": "integrations.models.ConnectorKind",
        "ConnectorErrorStatusEnum": "integrations.models.ConnectorErrorStatus",
        "ShopifyReceiptStatusEnum": ["created", "duplicate", "failed", "ignored"],
    },
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
}

# --- The web app (web/, docs/web.md) ------------------------------------------
# Sessions in the database (a global table, like users): logging out or changing the
# password ends them on the server, not only in the browser.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
SESSION_COOKIE_SAMESITE = "Lax"
LOGIN_URL = "web:login"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# Content-Security-Policy (django-csp): scripts and styles from this origin only, no
# inline script; Tabler's CSS draws a few icons from data: URIs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        # The billing page's forms answer with a redirect to Stripe Checkout or the
        # Customer Portal, which form-action governs too.
        "form-action": ["'self'", "https://checkout.stripe.com", "https://billing.stripe.com"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# --- Static files, i18n --------------------------------------------------------
# STATIC_URL: "static/" (served by the app: runserver in development, WhiteNoise in
# production) or a CDN's absolute URL ("https://d111.cloudfront.net/static/": in AWS the
# deploy copies the image's collected files to the bucket behind it, docs/deploy.md).
STATIC_URL = env.str("STATIC_URL", default="static/")
if STATIC_URL.startswith(("https://", "http://")):
    # The pages load their scripts, styles, images and fonts from there.
    _static_origin = "/".join(STATIC_URL.split("/")[:3])
    for _directive in ("script-src", "style-src", "img-src", "font-src"):
        CONTENT_SECURITY_POLICY["DIRECTIVES"][_directive].append(_static_origin)
STATIC_ROOT = BASE_DIR / "staticfiles"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging: one JSON object a line, with request, tenant and user ids ------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "core.logging.ContextFilter"}},
    "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}
