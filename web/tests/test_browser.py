"""The console in a real browser (Debian's Chromium through Playwright) against a real
server: a new company signs up, sets up a warehouse and a product, receives and issues
stock, sees the dashboard move, and cannot open another company's pages. axe-core runs
on every page (0 serious or critical violations), no page breaks the
Content-Security-Policy, and the main pages fit a 375 px phone. Screenshots of each
page are saved as test artefacts (``TEST_ARTIFACTS_DIR``)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", "/tmp/stockroom-test-artifacts"))  # noqa: S108 - test output
PASSWORD = "a sturdy passphrase 42"


class Tab:
    """A page with the checks every step makes: no CSP violation, no console error, axe."""

    def __init__(self, context: Any, base: str) -> None:
        self.page = context.new_page()
        self.base = base
        self.problems: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        # A form answered with its errors is a 400 document: Chrome logs it as a failed load.
        own_document = (
            message.text.startswith("Failed to load resource") and message.location.get("url") == self.page.url
        )
        if (message.type == "error" and not own_document) or "Content Security Policy" in message.text:
            self.problems.append(f"{self.page.url}: {message.text}")

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def check(self, name: str) -> None:
        """axe-core on the page as it stands, then a screenshot. The mouse is moved off the
        page first: after a click that navigates, Chromium hovers whatever lies under the
        pointer on the new page, and axe would sample that element mid-transition."""
        self.page.mouse.move(0, 0)
        self.page.wait_for_timeout(200)  # Tabler's transitions take 0.15 s
        self.page.evaluate(AXE.read_text())
        result = self.page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], f"axe on {name}: {serious}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        assert self.problems == [], self.problems

    def fits_phone(self, name: str) -> None:
        width = self.page.evaluate("document.documentElement.scrollWidth")
        wide = self.page.evaluate(
            "Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 376)"
            ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
        )
        assert width <= 375, f"{name} scrolls sideways on a 375 px phone ({width} px): {wide}"


def test_a_new_company_runs_its_stock_in_the_browser(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = Tab(context, server)
    page = tab.page

    # The landing page leads to sign-up.
    tab.go("/")
    tab.check("landing")
    page.get_by_role("link", name="Sign up").first.click()
    page.locator("#id_company_name").fill("Acme Tools")
    page.locator("#id_email").fill("ann@acme.example")
    page.locator("#id_password").fill(PASSWORD)
    tab.check("signup")
    page.get_by_role("button", name="Create workspace").click()
    page.wait_for_url(re.compile(r"/app/acme-tools/$"))
    assert page.get_by_role("heading", name="Getting started").is_visible()
    tab.check("dashboard-new")

    # A warehouse, then a product with a field error on the way.
    page.get_by_role("link", name="Add a warehouse").click()
    page.locator("#id_code").fill("MAIN")
    page.locator("#id_name").fill("Main warehouse")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/warehouses/$"))
    assert page.get_by_role("cell", name="MAIN", exact=True).is_visible()
    tab.check("warehouses")

    tab.go("/app/acme-tools/products/new/")
    page.locator("#id_sku").fill("BOLT-M8")
    page.locator("#id_name").fill("Hex bolt M8")
    page.locator("#id_selling_price").fill("-1")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("Ensure this value is greater than or equal to 0").is_visible()
    assert page.evaluate("document.activeElement.id") == "id_selling_price"
    tab.check("product-form-error")
    page.locator("#id_selling_price").fill("0.35")
    page.locator("#id_cost_price").fill("0.12")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/products/[0-9a-f-]{36}/$"))
    product_url = page.url
    assert page.get_by_text("Product BOLT-M8 created.").is_visible()

    # Receive 100, then try to issue 250: the error says what is available.
    page.get_by_role("link", name="Receive", exact=True).click()
    page.locator("#id_quantity").fill("100")
    tab.check("receive")
    page.get_by_role("button", name="Receive stock").click()
    page.wait_for_url(product_url)
    assert page.get_by_text("Received 100 pcs of BOLT-M8 into MAIN.").is_visible()
    assert page.locator("[data-on-hand='MAIN']").inner_text() == "100 pcs"
    tab.check("product")
    page.get_by_role("link", name="Issue", exact=True).click()
    page.locator("#id_quantity").fill("250")
    page.get_by_role("button", name="Issue stock").click()
    assert page.get_by_text("Not enough stock in MAIN: 100 pcs available, 250 pcs requested.").is_visible()
    tab.check("issue-refused")

    # The product list: search swaps the table in place and puts the query in the URL.
    tab.go("/app/acme-tools/products/")
    page.get_by_label("Search", exact=True).fill("bolt")
    page.wait_for_url(re.compile(r"q=bolt"))
    assert page.get_by_role("link", name="BOLT-M8").is_visible()
    tab.check("products")

    # The barcode box in the top bar jumps to the product ("/" focuses it).
    page.get_by_role("heading", name="Products", exact=True).click()  # out of the filter box
    page.keyboard.press("/")
    page.keyboard.type("bolt-m8")
    page.keyboard.press("Enter")
    page.wait_for_url(product_url)

    # The dashboard shows the stock value (100 x 0.12) and the movement.
    tab.go("/app/acme-tools/")
    assert page.locator("[data-metric='stock-value']").inner_text() == "USD 12.00"
    tab.check("dashboard")

    # On a phone the main pages fit the screen.
    phone = browser.new_context(viewport={"width": 375, "height": 800}, storage_state=context.storage_state())
    small = Tab(phone, server)
    for path, name in (("/app/acme-tools/", "phone-dashboard"), ("/app/acme-tools/products/", "phone-products")):
        small.go(path)
        small.fits_phone(name)
        small.check(name)
    phone.close()

    # Another company cannot open Acme's pages by URL.
    other = browser.new_context()
    rival = Tab(other, server)
    rival.go("/signup/")
    rival.page.locator("#id_company_name").fill("Rival Co")
    rival.page.locator("#id_email").fill("rita@rival.example")
    rival.page.locator("#id_password").fill(PASSWORD)
    rival.page.get_by_role("button", name="Create workspace").click()
    rival.page.wait_for_url(re.compile(r"/app/rival-co/$"))
    for path in ("/app/acme-tools/", product_url.removeprefix(server)):
        assert rival.go(path).status == 404
    foreign_product = product_url.removeprefix(server).replace("/app/acme-tools/", "/app/rival-co/")
    assert rival.go(foreign_product).status == 404
    other.close()

    # Log out: the console asks to log in again.
    tab.go("/app/acme-tools/")
    page.get_by_role("button", name=re.compile("ann@acme.example")).click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login/$"))
    assert page.get_by_text("You are logged out.").is_visible()
    tab.go("/app/acme-tools/")
    assert "/login/" in page.url
    context.close()
