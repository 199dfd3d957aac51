"""Webhooks in a real browser (Debian's Chromium through Playwright) against a real
server and a real receiver on 127.0.0.1 that checks the signatures: an owner adds an
endpoint (a form error on the way), sees its secret once and copies it, reloads and
finds the endpoint's page without it, sends a test event that the receiver verifies
with that secret, and finds the attempt in the delivery log. axe-core on every page
(``Tab`` of test_browser.py)."""

from __future__ import annotations

import json
import re

from integrations.tests.receiver import Receiver
from tenants.tests.factories import PASSWORD, make_member, make_tenant
from web.tests.test_browser import Tab


def test_an_owner_adds_an_endpoint_sees_its_secret_once_and_sends_a_test_event(server, browser):
    tenant = make_tenant(name="Hooked Goods", slug="hooked-goods")
    owner = make_member(tenant, "owner")
    receiver = Receiver().start()
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
        tab = Tab(context, server)
        page = tab.page
        tab.go("/login/")
        page.get_by_label("Email").fill(owner.user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"/app/hooked-goods/$"))

        # The sidebar leads to the webhooks; none yet.
        page.get_by_role("link", name="Webhooks", exact=True).click()
        page.wait_for_url(re.compile(r"/settings/webhooks/$"))
        assert page.get_by_text("No webhook endpoints yet").is_visible()
        tab.check("webhooks-empty")

        # Without an event the form is refused in words; then every sales order event.
        page.get_by_role("link", name="Add the first endpoint").click()
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_role("button", name="Create the endpoint").click()
        assert page.get_by_text("Choose at least one event type, or all events.").is_visible()
        tab.check("webhook-form-error")
        page.get_by_label("Any sales_order.* event").check()
        page.get_by_role("button", name="Create the endpoint").click()
        assert page.get_by_role("heading", name="Webhook endpoint created").is_visible()
        secret = page.get_by_label("The signing secret").input_value()
        assert secret.startswith("whsec_")
        page.get_by_role("button", name="Copy").click()
        page.get_by_role("button", name="Copied").wait_for(timeout=5000)  # the clipboard answers asynchronously
        assert page.evaluate("navigator.clipboard.readText()") == secret
        assert re.search(r"/settings/webhooks/[0-9a-f-]{36}/$", page.url)  # the endpoint's address now
        tab.check("webhook-created")

        # Reloading shows the endpoint's page: the secret is gone for good.
        page.reload()
        assert page.get_by_role("heading", name=receiver.url).is_visible()
        assert secret not in page.content()
        assert page.get_by_text("Nothing sent yet").is_visible()
        tab.check("webhook-endpoint-empty")

        # A test event: the receiver verifies it with the secret; its attempt is in the log.
        receiver.secrets = [secret]
        page.get_by_role("button", name="Send a test event", exact=True).click()
        page.wait_for_load_state()
        assert page.locator(".toast-body", has_text="A webhook.test event (msg_").is_visible()
        [got] = receiver.received
        assert got.verified_by == [secret] and json.loads(got.body)["type"] == "webhook.test"
        row = page.locator("[data-delivery]")
        assert row.count() == 1
        text = row.inner_text()
        assert "webhook.test" in text and "Delivered" in text and "HTTP 200" in text
        assert got.headers["webhook-id"] in text
        tab.check("webhook-delivery-log")
        context.close()
    finally:
        receiver.stop()
