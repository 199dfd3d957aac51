"""The API key look-up on a real connection, with real commits (no test transaction around
the request, as in production)."""

from tenants.tests.factories import client_for_key, make_api_key, make_tenant

PRODUCTS = "/api/v1/products/"


def test_the_lookup_setting_ends_with_its_transaction(committed):
    """After a key's request the pooled connection holds no ``app.api_key_hash``."""
    from django.db import connection

    tenant = make_tenant()
    _, raw = make_api_key(tenant, ["catalog:read"])

    response = client_for_key(raw).get(PRODUCTS)

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.api_key_hash', true)")
        left = cursor.fetchone()[0]
    assert response.status_code == 200
    assert left in ("", None)
