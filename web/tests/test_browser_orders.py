"""Sales and purchase orders in a real browser (Debian's Chromium through Playwright)
against a real server: a clerk's day with a sales order of two lines, its total priced
live by the server, confirmed, shipped in part, with the status and the timeline to
show for it; the purchase order pages. axe-core runs on every page (0 serious or
critical violations), no page breaks the Content-Security-Policy, screenshots are
saved as artefacts (``TEST_ARTIFACTS_DIR``)."""

from __future__ import annotations

import re
from decimal import Decimal

from inventory.tests.factories import make_product, make_warehouse, receive
from orders.tests.factories import make_customer, make_supplier
from tenants.context import tenant_context
from tenants.tests.factories import PASSWORD, make_member, make_tenant, make_user
from web.tests.test_browser import Tab


# No django_db mark: ``server`` uses ``committed`` (real commits, tables emptied by the
# owner role afterwards); pytest-django's flush would run as the runtime role and be refused.
def test_a_sales_order_from_draft_to_shipped_in_the_browser(server, browser):
    from playwright.sync_api import expect

    tenant = make_tenant(name="Acme Tools", slug="acme-tools")
    make_member(tenant, "owner", user=make_user(email="ann@acme.example"))
    with tenant_context(tenant):
        main = make_warehouse("MAIN", name="Main warehouse")
        bolt = make_product(sku="BOLT-M8", name="Hex bolt M8", selling_price=Decimal("0.35"))
        saw = make_product(sku="SAW-1", name="Hand saw", selling_price=Decimal("20.00"))
        receive(bolt, main, 100)
        receive(saw, main, 5)
        make_customer("Bob's Garage")
        make_supplier("Acme Supply")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = Tab(context, server)
    page = tab.page
    tab.go("/login/")
    page.get_by_label("Email").fill("ann@acme.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/app/acme-tools/$"))

    # The sidebar leads to the sales orders: none yet, and the button for the first one.
    page.get_by_role("link", name="Sales orders", exact=True).click()
    page.wait_for_url(re.compile(r"/sales-orders/$"))
    tab.check("sales-orders-empty")
    page.get_by_role("link", name="Create the first sales order").click()
    page.wait_for_url(re.compile(r"/sales-orders/new/$"))

    # Two lines; the server prices them as they are typed.
    page.get_by_label("Customer", exact=True).select_option(label="Bob's Garage")
    page.get_by_label("Product, line 1").fill("BOLT-M8")
    page.get_by_label("Quantity, line 1").fill("10")
    expect(page.locator("[data-order-total]")).to_have_text("USD 3.50")
    expect(page.locator("#line-name-0")).to_contain_text("Hex bolt M8")
    page.get_by_role("button", name="Add a line").click()
    page.get_by_label("Product, line 2").fill("SAW-1")
    page.get_by_label("Quantity, line 2").fill("2")
    page.get_by_label("Discount %, line 2").fill("10")
    # 10 x 0.35 + 2 x 20.00 - 10 % of 40.00 = 3.50 + 36.00
    expect(page.locator("[data-order-total]")).to_have_text("USD 39.50")
    expect(page.locator("#line-amount-1")).to_contain_text("USD 36.00")
    tab.check("sales-order-new")
    page.get_by_role("button", name="Save draft").first.click()
    page.wait_for_url(re.compile(r"/sales-orders/[0-9a-f-]{36}/$"))
    order_url = page.url
    expect(page.get_by_text("Draft sales order for Bob's Garage saved: 2 lines, USD 39.50.")).to_be_visible()
    tab.check("sales-order-draft")

    # Confirm: the stock is reserved and the toast says so.
    page.get_by_role("button", name="Confirm", exact=True).click()
    page.wait_for_url(order_url)
    expect(page.get_by_text("SO-000001 confirmed: 2 lines reserved.")).to_be_visible()
    expect(page.locator("[data-status]")).to_have_text("Confirmed")

    # Ship part of it: 4 of the 10 bolts, no saw yet.
    page.get_by_role("link", name="Ship", exact=True).click()
    page.wait_for_url(re.compile(r"/ship/$"))
    page.get_by_label("Quantity of BOLT-M8").fill("4")
    page.get_by_label("Quantity of SAW-1").fill("0")
    page.get_by_label("Carrier").fill("DHL")
    tab.check("sales-order-ship")
    page.get_by_role("button", name="Ship", exact=True).click()
    page.wait_for_url(order_url)
    expect(page.get_by_text("SO-000001 shipped: 4 pcs BOLT-M8; now partially fulfilled.")).to_be_visible()
    expect(page.locator("[data-status]")).to_have_text("Partially fulfilled")
    expect(page.locator("[data-moved='BOLT-M8']")).to_have_text("4 pcs")
    timeline = page.locator("#order-timeline")
    expect(timeline).to_contain_text("Created as Draft")
    expect(timeline).to_contain_text("Confirmed from draft")
    expect(timeline).to_contain_text("Shipped 4 pcs BOLT-M8 via DHL")
    expect(page.locator("[aria-current='step']")).to_have_text("Partially fulfilled")
    tab.check("sales-order-partially-fulfilled")

    # Cancelling asks first, naming the order; saying no changes nothing.
    asked: list[str] = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", answer)
    page.get_by_role("button", name="Cancel order").click()
    expect(page.locator("[data-status]")).to_have_text("Partially fulfilled")
    assert asked == ["Cancel SO-000001?"]

    # The list: the status tab swaps the table in place and puts the filter in the URL.
    tab.go("/app/acme-tools/sales-orders/")
    page.get_by_role("link", name=re.compile(r"^Partially fulfilled")).click()
    page.wait_for_url(re.compile(r"status=partially_fulfilled"))
    expect(page.get_by_role("link", name="SO-000001")).to_be_visible()
    tab.check("sales-orders")
    page.get_by_label("Search", exact=True).fill("nobody")
    page.wait_for_url(re.compile(r"q=nobody"))
    expect(page.get_by_text("No sales order matches")).to_be_visible()
    tab.check("sales-orders-no-match")

    # The purchase order pages.
    page.get_by_role("link", name="Purchase orders", exact=True).click()
    page.wait_for_url(re.compile(r"/purchase-orders/$"))
    tab.check("purchase-orders-empty")
    page.get_by_role("link", name="Create the first purchase order").click()
    page.get_by_label("Supplier", exact=True).select_option(label="Acme Supply")
    page.get_by_label("Product, line 1").fill("SAW-1")
    page.get_by_label("Quantity, line 1").fill("3")
    page.get_by_label("Unit price, line 1").fill("7.5")
    expect(page.locator("[data-order-total]")).to_have_text("USD 22.50")
    tab.check("purchase-order-new")
    page.get_by_label("Unit price, line 1").press("Enter")  # Enter in a field saves
    page.wait_for_url(re.compile(r"/purchase-orders/[0-9a-f-]{36}/$"))
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("PO-000001 ordered from Acme Supply: 1 line.")).to_be_visible()
    page.get_by_role("link", name="Receive", exact=True).click()
    page.wait_for_url(re.compile(r"/receive/$"))
    tab.check("purchase-order-receive")
    page.get_by_role("button", name="Receive", exact=True).click()
    expect(page.get_by_text("PO-000001 received: 3 pcs SAW-1; now received.")).to_be_visible()
    tab.check("purchase-order-received")

    # On a phone the order pages fit the screen.
    phone = browser.new_context(viewport={"width": 375, "height": 800}, storage_state=context.storage_state())
    small = Tab(phone, server)
    for path, name in (
        (order_url.removeprefix(server), "phone-sales-order"),
        ("/app/acme-tools/sales-orders/", "phone-sales-orders"),
    ):
        small.go(path)
        small.fits_phone(name)
        small.check(name)
    phone.close()
    context.close()
