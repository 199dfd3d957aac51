"""axe-core on every page of the site, in Chromium: the public pages and every console
route, found by walking the URLconf as the isolation test does (a new page is checked
without being listed), each opened with the seeded objects of a workspace whose owner
is signed in. 0 serious or critical violations, no console error, no
Content-Security-Policy violation, and no page wider than a 375 px phone."""

from __future__ import annotations

import re

from tenants.tests.factories import PASSWORD
from tenants.tests.harness import seed
from web.tests.test_browser import Tab
from web.tests.test_console_isolation import ROUTES, _fill


def _name(route: str) -> str:
    """A file name for a route's screenshot: ``products/<uuid:product_id>/`` -> ``products-product_id``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"\1", route).strip("/").replace("/", "-") or "dashboard"


PUBLIC = ["/", "/signup/", "/login/", "/password-reset/", "/reset-password/?token=x", "/terms/", "/privacy/"]


def test_every_page_passes_axe_on_a_desktop_and_fits_a_phone(server, browser):
    seeded = seed("every-page")
    checked: list[str] = []
    for width, prefix in ((1280, "desktop"), (375, "phone")):
        context = browser.new_context(viewport={"width": width, "height": 900})
        tab = Tab(context, server)
        for path in PUBLIC:
            tab.go(path)
            tab.check(f"every-{prefix}-public-{len(checked)}")
            if width == 375:
                tab.fits_phone(path)
            checked.append(path)
        tab.go("/login/")
        tab.page.locator("#id_email").fill(seeded.owner.user.email)
        tab.page.locator("#id_password").fill(PASSWORD)
        tab.page.get_by_role("button", name="Log in").click()
        tab.page.wait_for_url(f"{server}/app/**")
        for route in ROUTES:
            path = f"/app/{seeded.tenant.slug}/{_fill(route, seeded)}"
            # A POST-only action answers 405 with no page (Chromium will not open it): its page
            # is the one it redirects to. A download (a CSV) is no page either.
            probe = tab.page.request.get(server + path, max_redirects=0)
            if probe.status == 405 or not probe.headers.get("content-type", "").startswith("text/html"):
                continue
            response = tab.go(path)
            assert response.status == 200, f"{path} gave {response.status}"
            tab.check(f"every-{prefix}-{_name(route)}")
            if width == 375:
                tab.fits_phone(path)
            checked.append(path)
        context.close()
    assert len(checked) > 2 * len(PUBLIC) + 20


def test_the_api_docs_render_under_the_content_security_policy(server, browser):
    """Swagger UI and ReDoc (the vendors' pages, not ours: no axe) draw the schema with no
    Content-Security-Policy violation and no console error."""
    tab = Tab(browser.new_context(), server)
    tab.go("/api/docs/")
    tab.page.wait_for_selector(".swagger-ui .information-container", timeout=20_000)
    tab.go("/api/redoc/")
    try:
        tab.page.wait_for_selector(".api-content h1", timeout=30_000)
    except Exception as exc:
        raise AssertionError(f"ReDoc did not draw: {tab.problems}") from exc
    assert "Stockroom" in tab.page.locator(".api-content h1").first.inner_text()
    # ReDoc's "powered by" footer asks for its vendor's logo from their CDN: refused, as
    # every request to another host is (the page needs nothing from elsewhere).
    assert [p for p in tab.problems if "Loading the image 'https://cdn.redoc.ly/" not in p] == []
