from django.urls import path
from rest_framework.routers import SimpleRouter

from orders.api import views

router = SimpleRouter()
router.register("sales-orders", views.SalesOrderViewSet, basename="sales-order")
router.register("purchase-orders", views.PurchaseOrderViewSet, basename="purchase-order")

urlpatterns = [
    path("orders/stats/", views.OrderStatsView.as_view(), name="order-stats"),
    path("orders/numbering/", views.NumberingView.as_view(), name="order-numbering"),
    *router.urls,
]
