"""API keys and the audit log in a real browser (Debian's Chromium through Playwright)
against a real server: an owner creates a key with two scopes, sees it once and copies
it, reloads and finds the list without it, uses the key against the API, finds that
write in the audit log (filtered by the key, its changes opened), and revokes the key
after the confirmation that names it. axe-core on every page (``Tab`` of test_browser.py)."""

from __future__ import annotations

import re
import urllib.request
from urllib.error import HTTPError

from inventory.tests.factories import make_product
from tenants import api_key_format
from tenants.context import tenant_context
from tenants.tests.factories import PASSWORD, make_member, make_tenant
from web.tests.test_browser import Tab


def _api(server: str, key: str, method: str = "GET", path: str = "/api/v1/products/", body: bytes | None = None) -> int:
    """A request as curl would send it; its HTTP status."""
    request = urllib.request.Request(server + path, data=body, method=method)  # noqa: S310 - our own test server
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except HTTPError as exc:
        return int(exc.code)


def test_an_owner_creates_sees_once_uses_and_revokes_a_key(server, browser):
    tenant = make_tenant(name="Keyed Goods", slug="keyed-goods")
    owner = make_member(tenant, "owner")
    with tenant_context(tenant):
        product = make_product(sku="KEY-1", name="Before")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    tab = Tab(context, server)
    page = tab.page
    tab.go("/login/")
    page.get_by_label("Email").fill(owner.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/app/keyed-goods/$"))

    # The sidebar leads to the keys; none yet.
    page.get_by_role("link", name="API keys", exact=True).click()
    page.wait_for_url(re.compile(r"/settings/api-keys/$"))
    assert page.get_by_text("No API keys yet").is_visible()
    tab.check("api-keys-empty")

    # A key without scopes is refused in words; then one with two scopes.
    page.get_by_role("link", name="Create the first API key").click()
    page.get_by_label("Name").fill("Shop sync")
    page.get_by_role("button", name="Create the key").click()
    assert page.get_by_text("Choose at least one scope.").is_visible()
    tab.check("api-key-form-error")
    page.get_by_label("Catalog: read").check()
    page.get_by_label("Catalog: write").check()
    page.get_by_role("button", name="Create the key").click()
    assert page.get_by_role("heading", name="API key “Shop sync” created").is_visible()
    key = page.get_by_label("Your new API key").input_value()
    assert api_key_format.is_well_formed(key)
    page.get_by_role("button", name="Copy").click()
    page.get_by_role("button", name="Copied").wait_for(timeout=5000)  # the clipboard answers asynchronously
    assert page.evaluate("navigator.clipboard.readText()") == key
    assert page.url.endswith("/settings/api-keys/")  # the address is the list's now
    tab.check("api-key-created")

    # Reloading shows the list: the key is gone for good, its prefix stays.
    page.reload()
    assert page.get_by_role("heading", name="API keys").is_visible()
    assert key not in page.content() and key[:8] in page.content()
    row = page.locator("[data-api-key='Shop sync']")
    assert "Active" in row.inner_text() and "Never" in row.inner_text()
    tab.check("api-keys")

    # The key works against the API, with its scopes only.
    assert _api(server, key) == 200
    assert _api(server, key, path="/api/v1/stock-levels/") == 403
    assert _api(server, key, "PATCH", f"/api/v1/products/{product.id}/", b'{"name": "After"}') == 200

    # Its write is in the audit log, under the key; the changes open in place.
    page.reload()
    page.locator("[data-api-key='Shop sync']").get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/settings/audit/\?actor="))
    event = page.locator("[data-event='product.updated']")
    assert f"API key {key[:8]}… (Shop sync)" in event.inner_text()
    event.get_by_text("1 change").click()
    assert (
        event.get_by_role("cell", name="Before").is_visible() and event.get_by_role("cell", name="After").is_visible()
    )
    tab.check("audit-by-key")
    page.get_by_label("Event type").fill("product.")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"type=product\."))
    assert page.locator("[data-event]").count() == 1
    tab.check("audit-filtered")

    # Revoking asks first, naming the key; then the API refuses it.
    tab.go("/app/keyed-goods/settings/api-keys/")
    asked: list[str] = []

    def accept(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.get_by_role("button", name=f"Revoke Shop sync ({key[:8]}…)").click()
    page.wait_for_load_state()
    assert asked and asked[0].startswith(f"Revoke the API key Shop sync ({key[:8]}…)?")
    assert page.get_by_text("is revoked: requests with it are refused from now on").is_visible()
    assert "Revoked" in page.locator("[data-api-key='Shop sync']").inner_text()
    tab.check("api-keys-revoked")
    assert _api(server, key) == 401
    context.close()
