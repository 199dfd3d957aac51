from django.urls import path
from rest_framework.routers import SimpleRouter

from integrations.api import views

router = SimpleRouter()
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
router.register("connectors", views.ConnectorViewSet, basename="connector")
router.register("connector-errors", views.ConnectorErrorViewSet, basename="connector-error")
router.register("webhook-endpoints", views.WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", views.WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path(
        "connectors/<uuid:id>/shopify/orders/",
        views.ShopifyOrderWebhookView.as_view(),
        name="connector-shopify-orders",
    ),
    *router.urls,
    path("events/", views.EventListView.as_view(), name="event-list"),
]
