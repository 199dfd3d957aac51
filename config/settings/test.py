"""Test settings: PostgreSQL and Redis, always.

``DATABASE_URL`` here names a server and a role that may create roles and
databases (``make test`` passes the throwaway server it started, or yours). The
suite creates its own owner, runtime and operations roles and a throwaway
database on it (conftest.py), migrates as the owner and runs every test as the
runtime role, so Row Level Security is really in force.
"""

import os
from urllib.parse import unquote

from config import devdb
from config.settings.base import *  # noqa: F403
from config.settings.base import DEV_DATABASE_DIR, POSTGRES_ENGINE, env

# Unset: the superuser of the development database (config/devdb.py), which must be running.
TEST_DATABASE_ADMIN_URL = env.str("DATABASE_URL", default="") or devdb.urls(DEV_DATABASE_DIR)["DATABASE_ADMIN_URL"]
TEST_DATABASE_NAME = env.str("TEST_DATABASE_NAME", default=f"stockroom_test_{os.getpid()}")
TEST_ROLE_PASSWORD = env.str("TEST_ROLE_PASSWORD", default="stockroom-test-password")
TEST_ROLES = {
    "owner": env.str("TEST_OWNER_ROLE", default="stockroom_test_owner"),
    "default": env.str("TEST_RUNTIME_ROLE", default="stockroom_test_app"),
    "ops": env.str("TEST_OPS_ROLE", default="stockroom_test_ops"),
}

# The host may be a percent-encoded socket directory (the embedded server of make test).
_admin = env.db_url_config(TEST_DATABASE_ADMIN_URL)


def _alias(role: str) -> dict[str, object]:
    return {
        "ENGINE": POSTGRES_ENGINE,
        "NAME": TEST_DATABASE_NAME,
        "USER": role,
        "PASSWORD": TEST_ROLE_PASSWORD,
        "HOST": unquote(str(_admin["HOST"])),
        "PORT": _admin["PORT"],
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "ATOMIC_REQUESTS": False,
        # conftest.py creates and drops the database itself; Django must not.
        "TEST": {"NAME": TEST_DATABASE_NAME},
    }


DATABASES = {alias: _alias(role) for alias, role in TEST_ROLES.items()}
DATABASES["default"]["ATOMIC_REQUESTS"] = True

# The pooled job (`scripts/with-test-services.sh --pgbouncer`, scripts/with-pgbouncer.sh): the
# runtime and operations aliases connect through PgBouncer in transaction mode, as web and the
# workers may in production; the owner (creation, migrations, truncation) stays direct. A
# server-side cursor declared outside a transaction (``.iterator()`` in autocommit: WITH HOLD)
# would outlive the server connection's turn, so Django fetches results client-side instead.
# "single" is the runtime role on the same database through a pool of ONE server connection
# (tenants/tests/test_pooling.py: clients that share it never see each other's tenant).
TEST_POOLER_URL = env.str("TEST_POOLER_URL", default="")
TEST_POOLER_ADMIN_URL = env.str("TEST_POOLER_ADMIN_URL", default="")
if TEST_POOLER_URL:
    _pooler = env.db_url_config(TEST_POOLER_URL)
    for _pooled in ("default", "ops"):
        DATABASES[_pooled].update(HOST=_pooler["HOST"], PORT=_pooler["PORT"], DISABLE_SERVER_SIDE_CURSORS=True)
    DATABASES["single"] = {**DATABASES["default"], "NAME": f"{TEST_DATABASE_NAME}_single", "ATOMIC_REQUESTS": False}

REDIS_URL = env.str("REDIS_URL", default="") or "redis://127.0.0.1:6379/0"
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "stockroom-test",
        "KEY_FUNCTION": "tenants.cache.make_key",
        "OPTIONS": REDIS_CACHE_OPTIONS,  # noqa: F405
    }
}
CELERY_BROKER_URL = REDIS_URL
# Tests run tasks eagerly unless they start a real worker (see tests of tenants.tasking).
CELERY_TASK_ALWAYS_EAGER = True

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = env.path("TEST_MEDIA_ROOT", default=f"/tmp/stockroom-test-media-{os.getpid()}")  # noqa: S108 - throwaway test files
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECRET_KEY = "test-secret-key-" + "x" * 40
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": SECRET_KEY}  # noqa: F405
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],  # noqa: F405
        "anon": "10000/min",
        "user": "10000/min",
    },
}

# Test-only tenant models (no business meaning) for the RLS and composite-key tests.
INSTALLED_APPS = [*INSTALLED_APPS, "tenants.tests.isolation_app"]  # noqa: F405

# Relays run where a test runs them (tenants/tests/test_events.py), not at every commit.
EVENT_RELAY_KICK = False

# Webhook tests deliver to a receiver on 127.0.0.1 (integrations/tests); the address checks'
# own tests turn this off.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
