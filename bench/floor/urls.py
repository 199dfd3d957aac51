from django.urls import path

from . import reference, views

urlpatterns = [
    path("floor/products/", views.product_list, name="bench-floor-products"),
    path("floor/products/<uuid:pk>/", views.product_detail, name="bench-floor-product"),
    path("floor/stock-levels/", views.stock_level_list, name="bench-floor-stock-levels"),
    path("floor/sales-orders/", views.sales_order_list, name="bench-floor-sales-orders"),
    path("floor/stock/issue/", views.stock_issue, name="bench-floor-stock-issue"),
    path("reference/products/", reference.ProductList.as_view(), name="bench-reference-products"),
]
