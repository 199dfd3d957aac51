from django.urls import path
from rest_framework.routers import SimpleRouter

from integrations.api import views

router = SimpleRouter()
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")

urlpatterns = router.urls
urlpatterns += [path("events/", views.EventListView.as_view(), name="event-list")]
