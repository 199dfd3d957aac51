from django.urls import path
from rest_framework.routers import SimpleRouter

from inventory.api import views

router = SimpleRouter()
router.register("categories", views.CategoryViewSet, basename="category")
router.register("products", views.ProductViewSet, basename="product")
router.register("warehouses", views.WarehouseViewSet, basename="warehouse")
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("supplier-products", views.SupplierProductViewSet, basename="supplier-product")
router.register("stock-levels", views.StockLevelViewSet, basename="stock-level")
router.register("stock-movements", views.StockMovementViewSet, basename="stock-movement")
router.register("inventory/low-stock", views.LowStockViewSet, basename="low-stock")
router.register("inventory/low-stock-alerts", views.LowStockAlertViewSet, basename="low-stock-alert")
router.register("imports", views.ImportJobViewSet, basename="import")
router.register("exports", views.ExportJobViewSet, basename="export")

urlpatterns = [
    path("stock/receive/", views.ReceiveView.as_view(), name="stock-receive"),
    path("stock/issue/", views.IssueView.as_view(), name="stock-issue"),
    path("stock/adjust/", views.AdjustView.as_view(), name="stock-adjust"),
    path("stock/transfer/", views.TransferView.as_view(), name="stock-transfer"),
    path("inventory/valuation/", views.ValuationView.as_view(), name="valuation"),
    *router.urls,
]
