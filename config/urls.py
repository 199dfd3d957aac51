from django.conf import settings
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", template_name="core/redoc.html"), name="redoc"),
    path("api/v1/", include("tenants.api.urls")),
    path("api/v1/", include("inventory.api.urls")),
    path("api/v1/", include("orders.api.urls")),
]

if settings.BENCH_FLOOR_VIEWS:
    # Benchmark only (bench/run); production refuses the setting on a public host.
    urlpatterns.append(path("bench/", include("bench.floor.urls")))

handler400 = "core.api.exception_handler.json_400"
handler403 = "core.api.exception_handler.json_403"
handler404 = "core.api.exception_handler.json_404"
handler500 = "core.api.exception_handler.json_500"
