"""The web app's addresses: the public site at the root, the console under
``/app/<slug>/<section>/[<id>/][<action>/]`` (docs/web.md)."""

from django.urls import include, path

from web.views import (
    accounts,
    api_keys,
    audit,
    billing,
    categories,
    connectors,
    dashboard,
    data,
    members,
    orders,
    parties,
    products,
    profile,
    public,
    stock,
    warehouses,
    webhooks,
    workspace,
)

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
    # Categories, suppliers, customers, imports and exports (catalog helper).
    path("categories/", categories.category_list, name="categories"),
    path("categories/new/", categories.category_create, name="category-new"),
    path("categories/<uuid:category_id>/edit/", categories.category_edit, name="category-edit"),
    path("categories/<uuid:category_id>/delete/", categories.category_delete, name="category-delete"),
    path("suppliers/", parties.supplier_list, name="suppliers"),
    path("suppliers/new/", parties.supplier_create, name="supplier-new"),
    path("suppliers/<uuid:supplier_id>/", parties.supplier_detail, name="supplier"),
    path("suppliers/<uuid:supplier_id>/edit/", parties.supplier_edit, name="supplier-edit"),
    path("suppliers/<uuid:supplier_id>/delete/", parties.supplier_delete, name="supplier-delete"),
    path("suppliers/<uuid:supplier_id>/prices/new/", parties.supplier_price_create, name="supplier-price-new"),
    path(
        "suppliers/<uuid:supplier_id>/prices/<uuid:supplier_product_id>/edit/",
        parties.supplier_price_edit,
        name="supplier-price-edit",
    ),
    path("customers/", parties.customer_list, name="customers"),
    path("customers/new/", parties.customer_create, name="customer-new"),
    path("customers/<uuid:customer_id>/", parties.customer_detail, name="customer"),
    path("customers/<uuid:customer_id>/edit/", parties.customer_edit, name="customer-edit"),
    path("customers/<uuid:customer_id>/delete/", parties.customer_delete, name="customer-delete"),
    path("imports/", data.import_list, name="imports"),
    path("imports/new/", data.import_create, name="import-new"),
    path("imports/<uuid:import_job_id>/", data.import_detail, name="import"),
    path("imports/<uuid:import_job_id>/errors/", data.import_errors, name="import-errors"),
    path("exports/", data.export_list, name="exports"),
    path("exports/new/", data.export_create, name="export-new"),
    path("exports/<uuid:export_job_id>/", data.export_detail, name="export"),
    path("exports/<uuid:export_job_id>/download/", data.export_download, name="export-download"),
    # Orders (web/views/orders.py): the same pages for both kinds.
    path("sales-orders/", orders.sales_order_list, name="sales-orders"),
    path("sales-orders/new/", orders.sales_order_create, name="sales-order-new"),
    path("sales-orders/lines-preview/", orders.sales_order_lines_preview, name="sales-order-lines"),
    path("sales-orders/<uuid:sales_order_id>/", orders.sales_order_detail, name="sales-order"),
    path("sales-orders/<uuid:sales_order_id>/edit/", orders.sales_order_edit, name="sales-order-edit"),
    path("sales-orders/<uuid:sales_order_id>/delete/", orders.sales_order_delete, name="sales-order-delete"),
    path("sales-orders/<uuid:sales_order_id>/confirm/", orders.sales_order_confirm, name="sales-order-confirm"),
    path("sales-orders/<uuid:sales_order_id>/ship/", orders.sales_order_ship, name="sales-order-ship"),
    path("sales-orders/<uuid:sales_order_id>/return/", orders.sales_order_return, name="sales-order-return"),
    path("sales-orders/<uuid:sales_order_id>/cancel/", orders.sales_order_cancel, name="sales-order-cancel"),
    path("purchase-orders/", orders.purchase_order_list, name="purchase-orders"),
    path("purchase-orders/new/", orders.purchase_order_create, name="purchase-order-new"),
    path("purchase-orders/lines-preview/", orders.purchase_order_lines_preview, name="purchase-order-lines"),
    path("purchase-orders/<uuid:purchase_order_id>/", orders.purchase_order_detail, name="purchase-order"),
    path("purchase-orders/<uuid:purchase_order_id>/edit/", orders.purchase_order_edit, name="purchase-order-edit"),
    path(
        "purchase-orders/<uuid:purchase_order_id>/delete/", orders.purchase_order_delete, name="purchase-order-delete"
    ),
    path("purchase-orders/<uuid:purchase_order_id>/place/", orders.purchase_order_place, name="purchase-order-place"),
    path(
        "purchase-orders/<uuid:purchase_order_id>/receive/",
        orders.purchase_order_receive,
        name="purchase-order-receive",
    ),
    path(
        "purchase-orders/<uuid:purchase_order_id>/return/", orders.purchase_order_return, name="purchase-order-return"
    ),
    path(
        "purchase-orders/<uuid:purchase_order_id>/cancel/", orders.purchase_order_cancel, name="purchase-order-cancel"
    ),
    # Settings: members and invitations, the workspace, the signed-in user's profile.
    path("settings/members/", members.member_list, name="members"),
    path("settings/members/invite/", members.invitation_create, name="member-invite"),
    path("settings/members/<uuid:membership_id>/", members.member_detail, name="member"),
    path("settings/members/<uuid:membership_id>/remove/", members.member_remove, name="member-remove"),
    path(
        "settings/members/invitations/<uuid:invitation_id>/revoke/",
        members.invitation_revoke,
        name="invitation-revoke",
    ),
    # API keys and the audit log (admins and owners).
    path("settings/api-keys/", api_keys.api_key_list, name="api-keys"),
    path("settings/api-keys/new/", api_keys.api_key_create, name="api-key-new"),
    path("settings/api-keys/<uuid:api_key_id>/revoke/", api_keys.api_key_revoke, name="api-key-revoke"),
    path("settings/audit/", audit.audit_list, name="audit"),
    path("settings/audit/export/", audit.audit_export, name="audit-export"),
    # Billing (admins and owners see it; owners subscribe).
    path("settings/billing/", billing.billing_page, name="billing"),
    path("settings/billing/checkout/", billing.billing_checkout, name="billing-checkout"),
    path("settings/billing/portal/", billing.billing_portal, name="billing-portal"),
    # Webhooks and connectors (admins and owners).
    path("settings/webhooks/", webhooks.webhook_list, name="webhooks"),
    path("settings/webhooks/new/", webhooks.webhook_create, name="webhook-new"),
    path("settings/webhooks/<uuid:webhook_endpoint_id>/", webhooks.webhook_detail, name="webhook"),
    path("settings/webhooks/<uuid:webhook_endpoint_id>/edit/", webhooks.webhook_edit, name="webhook-edit"),
    path("settings/webhooks/<uuid:webhook_endpoint_id>/test/", webhooks.webhook_test, name="webhook-test"),
    path("settings/webhooks/<uuid:webhook_endpoint_id>/rotate/", webhooks.webhook_rotate, name="webhook-rotate"),
    path("settings/webhooks/<uuid:webhook_endpoint_id>/recover/", webhooks.webhook_recover, name="webhook-recover"),
    path("settings/webhooks/<uuid:webhook_endpoint_id>/delete/", webhooks.webhook_delete, name="webhook-delete"),
    path(
        "settings/webhooks/<uuid:webhook_endpoint_id>/deliveries/<uuid:webhook_delivery_id>/redeliver/",
        webhooks.webhook_redeliver,
        name="webhook-redeliver",
    ),
    path("settings/connectors/", connectors.connector_list, name="connectors"),
    path("settings/connectors/new/", connectors.connector_create, name="connector-new"),
    path("settings/connectors/<uuid:connector_id>/", connectors.connector_detail, name="connector"),
    path("settings/connectors/<uuid:connector_id>/edit/", connectors.connector_edit, name="connector-edit"),
    path("settings/connectors/<uuid:connector_id>/delete/", connectors.connector_delete, name="connector-delete"),
    path(
        "settings/connectors/<uuid:connector_id>/errors/<uuid:connector_error_id>/retry/",
        connectors.connector_error_retry,
        name="connector-error-retry",
    ),
    path(
        "settings/connectors/<uuid:connector_id>/errors/<uuid:connector_error_id>/dismiss/",
        connectors.connector_error_dismiss,
        name="connector-error-dismiss",
    ),
    path("settings/workspace/", workspace.workspace_settings, name="workspace-settings"),
    path("settings/workspace/numbering/", workspace.numbering_update, name="numbering"),
    path("settings/profile/", profile.profile, name="profile"),
    path("settings/profile/password/", profile.password_change, name="password-change"),
    path("settings/profile/verify-email/", profile.email_verification_send, name="email-verification-send"),
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
    path("verify-email/", accounts.verify_email, name="verify-email"),
    path("terms/", public.terms, name="terms"),
    path("privacy/", public.privacy, name="privacy"),
    path("app/", public.workspaces, name="workspaces"),
    path("app/<slug:slug>/", include(console)),
]
