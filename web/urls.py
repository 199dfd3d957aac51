"""The web app's addresses: the public site at the root, the console under
``/app/<slug>/<section>/[<id>/][<action>/]`` (docs/web.md)."""

from django.urls import include, path

from web.views import accounts, dashboard, products, public, stock, warehouses

app_name = "web"

console = [
    path("", dashboard.dashboard, name="dashboard"),
    path("search/", products.product_lookup, name="lookup"),
    path("products/", products.product_list, name="products"),
    path("products/new/", products.product_create, name="product-new"),
    path("products/<uuid:product_id>/", products.product_detail, name="product"),
    path("products/<uuid:product_id>/edit/", products.product_edit, name="product-edit"),
    path("products/<uuid:product_id>/receive/", stock.stock_receive, name="stock-receive"),
    path("products/<uuid:product_id>/issue/", stock.stock_issue, name="stock-issue"),
    path("products/<uuid:product_id>/adjust/", stock.stock_adjust, name="stock-adjust"),
    path("products/<uuid:product_id>/transfer/", stock.stock_transfer, name="stock-transfer"),
    path("warehouses/", warehouses.warehouse_list, name="warehouses"),
    path("warehouses/new/", warehouses.warehouse_create, name="warehouse-new"),
    path("warehouses/<uuid:warehouse_id>/edit/", warehouses.warehouse_edit, name="warehouse-edit"),
]

urlpatterns = [
    path("", public.landing, name="landing"),
    path("signup/", public.signup, name="signup"),
    path("login/", public.login, name="login"),
    path("logout/", public.logout, name="logout"),
    path("password-reset/", accounts.password_reset_request, name="password-reset"),
    # The addresses in the emails (tenants/emails.py).
    path("reset-password/", accounts.password_reset_confirm, name="password-reset-confirm"),
    path("accept-invitation/", accounts.accept_invitation, name="accept-invitation"),
    path("terms/", public.terms, name="terms"),
    path("privacy/", public.privacy, name="privacy"),
    path("app/", public.workspaces, name="workspaces"),
    path("app/<slug:slug>/", include(console)),
]
