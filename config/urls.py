from csp.decorators import csp_update
from django.conf import settings
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from config.admin import ops_site
from core import health, metrics_http

_docs_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Prometheus, with the bearer token METRICS_TOKEN; without it, no such page (core/metrics_http.py).
    path("metrics", metrics_http.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The API docs run their vendors' code (served by the app): scripts from the app only (Swagger
    # UI's start-up script is a file of its own: the split view), but inline styles and
    # ReDoc's search worker allowed on these two pages (web/tests/test_browser_every_page.py).
    path("api/docs/", _docs_csp(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="swagger-ui"),
    path(
        "api/redoc/",
        _docs_csp(SpectacularRedocView.as_view(url_name="schema", template_name="core/redoc.html")),
        name="redoc",
    ),
    path("api/v1/", include("tenants.api.urls")),
    path("api/v1/", include("inventory.api.urls")),
    path("api/v1/", include("orders.api.urls")),
    path("api/v1/", include("integrations.api.urls")),
    path("api/v1/", include("billing.api.urls")),
    # Platform staff only (config/admin.py).
    path("ops/admin/", ops_site.urls),
    path("", include("web.urls")),
]

if settings.BENCH_FLOOR_VIEWS:
    # Benchmark only (bench/run); production refuses the setting on a public host.
    urlpatterns.append(path("bench/", include("bench.floor.urls")))

# The API answers in its JSON error shape, the web app with pages (web/errors.py).
handler400 = "web.errors.bad_request"
handler403 = "web.errors.permission_denied"
handler404 = "web.errors.page_not_found"
handler500 = "web.errors.server_error"
