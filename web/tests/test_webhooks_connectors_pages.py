"""The webhooks and connectors pages on the real stack (sessions, Row Level Security,
services, a real HTTP receiver on 127.0.0.1, Shopify's signed webhook through the API):
admins and owners only; an endpoint made in the console shows its secret once, a test
event reaches the receiver signed with it and its attempt is in the delivery log, an
attempt is redelivered with the same webhook-id, a rotation shows the new secret once
and both secrets sign; a connector made in the console keeps a delivery it cannot make
as an error entry, shown on its page and retried from there once the product exists.
Refusals also check that nothing was written."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from integrations.models import (
    Connector,
    ConnectorError,
    ConnectorErrorStatus,
    MessageStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)
from integrations.services import connectors as connector_services
from integrations.tests.factories import (
    SECRET,
    body_of,
    make_connector,
    make_webhook_endpoint,
    order_payload,
    signed_headers,
)
from integrations.tests.receiver import Answer, Receiver
from inventory.tests.factories import make_product, make_warehouse
from orders.models import SalesOrder
from tenants.context import tenant_context
from tenants.models import Role
from tenants.tests.factories import make_member, make_tenant
from web.tests.helpers import console_client, page_queries

WEBHOOKS = "/app/alpha/settings/webhooks/"
NEW_WEBHOOK = "/app/alpha/settings/webhooks/new/"
CONNECTORS = "/app/alpha/settings/connectors/"
NEW_CONNECTOR = "/app/alpha/settings/connectors/new/"
# A URL the SSRF guard resolves without DNS (private targets are allowed in the tests).
HOOK_URL = "http://127.0.0.1:9/in"
SECRET_PATTERN = re.compile(r'id="webhook-secret" value="(whsec_[A-Za-z0-9+/=]+)"')


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def fast(settings):
    settings.WEBHOOK_RETRY_SCHEDULE_SECONDS = []  # a failed attempt is final: the test redelivers it
    settings.WEBHOOK_TIMEOUT_SECONDS = 2.0
    return settings


def _endpoints(tenant):
    with tenant_context(tenant):
        return list(WebhookEndpoint.objects.order_by("created_at"))


def _submission(response):
    found = re.search(r'name="submission" value="([0-9a-f-]{36})"', response.content.decode())
    assert found is not None
    return found.group(1)


def _create_endpoint(client, **fields):
    body = {"url": HOOK_URL, "description": "Shop", "events": ["product.*"], **fields}
    return client.post(NEW_WEBHOOK, body)


def _secret(response) -> str:
    found = SECRET_PATTERN.search(response.content.decode())
    assert found is not None, response.content.decode()[:2000]
    return found.group(1)


# --- Roles ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", [WEBHOOKS, NEW_WEBHOOK, CONNECTORS, NEW_CONNECTOR])
def test_only_admins_and_owners_open_the_pages(tenant_a, owner_a, path):
    for role in (Role.VIEWER, Role.CLERK, Role.MANAGER):
        assert console_client(make_member(tenant_a, role)).get(path).status_code == 403
    assert console_client(make_member(tenant_a, Role.ADMIN)).get(path).status_code == 200
    assert console_client(owner_a).get(path).status_code == 200


@pytest.mark.django_db
def test_a_clerk_neither_sees_the_links_nor_changes_anything(tenant_a, owner_a):
    with tenant_context(tenant_a):
        endpoint = make_webhook_endpoint()
        connector = make_connector(make_warehouse("CLK"))
    clerk = console_client(make_member(tenant_a, Role.CLERK))
    dashboard = clerk.get("/app/alpha/").content.decode()
    assert WEBHOOKS not in dashboard and CONNECTORS not in dashboard
    assert _create_endpoint(clerk).status_code == 403
    assert clerk.post(f"{WEBHOOKS}{endpoint.id}/delete/").status_code == 403
    assert clerk.post(f"{WEBHOOKS}{endpoint.id}/rotate/").status_code == 403
    assert clerk.post(f"{CONNECTORS}{connector.id}/delete/").status_code == 403
    assert [e.secret for e in _endpoints(tenant_a)] == [endpoint.secret]
    with tenant_context(tenant_a):
        assert Connector.objects.count() == 1
    admin = console_client(make_member(tenant_a, Role.ADMIN)).get("/app/alpha/").content.decode()
    assert WEBHOOKS in admin and CONNECTORS in admin


# --- Webhooks ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_endpoint_made_in_the_console_shows_its_secret_once(tenant_a, owner_a):
    owner = console_client(owner_a)
    form = owner.get(NEW_WEBHOOK).content.decode()
    assert 'value="product.*"' in form and 'value="sales_order.confirmed"' in form and 'value="*"' in form
    response = _create_endpoint(owner, events=["product.*", "product.updated", "stock.changed"])
    assert response.status_code == 201
    secret = _secret(response)
    [endpoint] = _endpoints(tenant_a)
    page = response.content.decode()
    assert 'data-copy="#webhook-secret"' in page
    assert f'data-replace-url="{WEBHOOKS}{endpoint.id}/"' in page
    assert endpoint.secret == secret and endpoint.created_by_id == owner_a.user_id
    assert endpoint.events == ["product.*", "stock.changed"]  # a type under a chosen group goes
    listing = owner.get(WEBHOOKS).content.decode()
    detail = owner.get(f"{WEBHOOKS}{endpoint.id}/").content.decode()
    assert HOOK_URL in listing and "Active" in listing
    assert secret not in listing and secret not in detail


@pytest.mark.django_db
def test_all_events_takes_the_place_of_every_other_box(tenant_a, owner_a):
    response = _create_endpoint(console_client(owner_a), events=["*", "product.created"])
    assert response.status_code == 201
    assert [e.events for e in _endpoints(tenant_a)] == [["*"]]


@pytest.mark.django_db
def test_sending_the_same_form_twice_makes_one_endpoint(tenant_a, owner_a):
    owner = console_client(owner_a)
    submission = _submission(owner.get(NEW_WEBHOOK))
    first = _create_endpoint(owner, submission=submission)
    second = _create_endpoint(owner, submission=submission)
    assert first.status_code == 201
    assert second.status_code == 302 and second["Location"] == WEBHOOKS
    assert "This form was already sent" in owner.get(WEBHOOKS).content.decode()
    assert len(_endpoints(tenant_a)) == 1


@pytest.mark.django_db
def test_a_refused_url_shows_the_guards_reason_under_the_field(tenant_a, owner_a, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    owner = console_client(owner_a)
    submission = _submission(owner.get(NEW_WEBHOOK))
    response = _create_endpoint(owner, url="http://127.0.0.1:8080/hook", submission=submission)
    assert response.status_code == 400
    page = response.content.decode()
    error = re.search(r'id="id_url_error">([^<]+)<', page)
    assert error is not None and "loopback" in error.group(1).lower()
    assert _submission(response) != submission  # the corrected form is a new submission
    assert _endpoints(tenant_a) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"events": []}, "Choose at least one event type, or all events."),
        ({"events": ["nothing.here"]}, "Select a valid choice."),
        ({"url": "ftp://hooks.example.com/"}, "Enter a valid URL."),
        ({"url": ""}, "This field is required."),
        ({"description": "x" * 501}, "Ensure this value has at most 500 characters"),
    ],
)
def test_a_bad_endpoint_form_is_answered_with_its_error(tenant_a, owner_a, fields, message):
    response = _create_endpoint(console_client(owner_a), **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _endpoints(tenant_a) == []


@pytest.mark.django_db
def test_editing_turns_an_endpoint_off_and_its_sending_buttons_go(tenant_a, owner_a):
    with tenant_context(tenant_a):
        endpoint = make_webhook_endpoint(events=["product.created"])
    owner = console_client(owner_a)
    edit = f"{WEBHOOKS}{endpoint.id}/edit/"
    form = owner.get(edit).content.decode()
    assert re.search(r'value="product.created" id="[^"]+" checked', form)
    response = owner.post(edit, {"url": HOOK_URL, "description": "Paused", "events": ["sales_order.*"]})
    assert response.status_code == 302 and response["Location"] == f"{WEBHOOKS}{endpoint.id}/"
    [saved] = _endpoints(tenant_a)
    assert saved.is_active is False and saved.disabled_reason == "manual" and saved.events == ["sales_order.*"]
    page = owner.get(f"{WEBHOOKS}{endpoint.id}/").content.decode()
    assert "Disabled" in page and "Turned off by a user" in page and "Send a test event" not in page
    refused = owner.post(f"{WEBHOOKS}{endpoint.id}/test/", follow=True).content.decode()
    assert "disabled" in refused
    with tenant_context(tenant_a):
        assert WebhookMessage.objects.count() == 0


@pytest.mark.django_db
def test_deleting_an_endpoint_asks_first_and_removes_it(tenant_a, owner_a):
    with tenant_context(tenant_a):
        endpoint = make_webhook_endpoint()
    owner = console_client(owner_a)
    for page in (f"{WEBHOOKS}{endpoint.id}/edit/", f"{WEBHOOKS}{endpoint.id}/"):
        assert f'data-confirm="Delete the webhook endpoint {endpoint.url}?' in owner.get(page).content.decode()
    response = owner.post(f"{WEBHOOKS}{endpoint.id}/delete/", follow=True)
    assert response.redirect_chain == [(WEBHOOKS, 302)]
    assert "is deleted with its delivery log" in response.content.decode()
    assert _endpoints(tenant_a) == []


def test_a_test_event_reaches_the_receiver_and_its_attempt_is_in_the_log(committed, receiver, fast):
    tenant = make_tenant(name="Hooked", slug="hooked")
    owner = console_client(make_member(tenant, "owner"))
    made = owner.post(
        "/app/hooked/settings/webhooks/new/",
        {"url": receiver.url, "events": ["sales_order.created"], "submission": ""},
    )
    assert made.status_code == 201
    receiver.secrets = [_secret(made)]
    [endpoint] = _endpoints(tenant)
    base = f"/app/hooked/settings/webhooks/{endpoint.id}/"
    receiver.answer(Answer(status=500, body=b"receiver broke"))

    sent = owner.post(f"{base}test/", follow=True)  # the task runs on commit (eager Celery)
    page = sent.content.decode()
    assert "A webhook.test event" in page
    [got] = receiver.received
    assert json.loads(got.body)["type"] == "webhook.test" and got.verified_by == receiver.secrets
    [attempt] = re.findall(r'<tr data-delivery="([0-9a-f-]+)">', page)
    assert "webhook.test" in page and "HTTP 500" in page and "receiver broke" in page
    assert got.headers["webhook-id"] in page

    # Redeliver: the same message (webhook-id, body) again; it succeeds this time.
    again = owner.post(f"{base}deliveries/{attempt}/redeliver/", follow=True).content.decode()
    assert "is sent again" in again
    first, second = receiver.received
    assert second.headers["webhook-id"] == first.headers["webhook-id"] and second.body == first.body
    assert len(re.findall(r"<tr data-delivery=", again)) == 2 and "Delivered" in again
    with tenant_context(tenant):
        assert WebhookMessage.objects.get().status == MessageStatus.SUCCEEDED

    # Rotate: the new secret shown once, and both sign for the next 24 hours.
    old = receiver.secrets[0]
    rotated = owner.post(f"{base}rotate/", {"submission": _submission(owner.get(base))})
    assert rotated.status_code == 200
    new = _secret(rotated)
    assert new != old
    assert "The previous secret goes on signing every message too until" in rotated.content.decode()
    receiver.secrets = [new, old]
    owner.post(f"{base}test/")
    third = receiver.received[-1]
    assert third.verified_by == [new, old] and len(third.headers["webhook-signature"].split(" ")) == 2
    assert "Rotated: the previous secret also signs until" in owner.get(base).content.decode()


def test_rotating_twice_with_one_form_rotates_once(committed):
    tenant = make_tenant(name="Twice", slug="twice")
    owner = console_client(make_member(tenant, "owner"))
    with tenant_context(tenant):
        endpoint = make_webhook_endpoint()
    base = f"/app/twice/settings/webhooks/{endpoint.id}/"
    submission = _submission(owner.get(base))
    first = owner.post(f"{base}rotate/", {"submission": submission})
    second = owner.post(f"{base}rotate/", {"submission": submission})
    assert first.status_code == 200 and second.status_code == 302
    [saved] = _endpoints(tenant)
    assert saved.secret == _secret(first) and saved.previous_secret == endpoint.secret


def test_recover_sends_again_what_failed_since_a_moment(committed, receiver, fast):
    tenant = make_tenant(name="Recovering", slug="recovering")
    owner = console_client(make_member(tenant, "owner"))
    with tenant_context(tenant):
        endpoint = make_webhook_endpoint(url=receiver.url)
    base = f"/app/recovering/settings/webhooks/{endpoint.id}/"
    receiver.answer(Answer(status=503))
    owner.post(f"{base}test/")
    with tenant_context(tenant):
        assert WebhookMessage.objects.get().status == MessageStatus.FAILED
    since = timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    page = owner.post(f"{base}recover/", {"since": since}, follow=True).content.decode()
    assert "1 failed message since" in page
    assert [r.answered for r in receiver.received] == [503, 200]
    bad = owner.post(f"{base}recover/", {"since": "yesterday"}, follow=True).content.decode()
    assert "Give the date and time" in bad and len(receiver.received) == 2


@pytest.mark.django_db
def test_an_attempt_of_another_endpoint_is_not_found_here(tenant_a, owner_a):
    with tenant_context(tenant_a):
        one, other = make_webhook_endpoint(), make_webhook_endpoint()
        message = WebhookMessage.objects.create(endpoint=other, event_type="webhook.test", body="{}")
        attempt = WebhookDelivery.objects.create(message=message, endpoint=other, attempt=1)
    response = console_client(owner_a).post(f"{WEBHOOKS}{one.id}/deliveries/{attempt.id}/redeliver/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_delivery_log_pages_newest_first(tenant_a, owner_a):
    with tenant_context(tenant_a):
        endpoint = make_webhook_endpoint()
        message = WebhookMessage.objects.create(endpoint=endpoint, event_type="product.created", body="{}")
        now = timezone.now()
        for n in range(27):
            WebhookDelivery.objects.create(
                message=message, endpoint=endpoint, attempt=n + 1, created_at=now + timedelta(seconds=n)
            )
    owner = console_client(owner_a)
    first = owner.get(f"{WEBHOOKS}{endpoint.id}/").content.decode()
    assert "1\u201325 of 27" in first
    attempts = re.findall(r'<td class="d-none d-md-table-cell">(\d+)</td>', first)
    assert attempts[:2] == ["27", "26"]
    second = owner.get(f"{WEBHOOKS}{endpoint.id}/", {"page": 2}, HTTP_HX_REQUEST="true").content.decode()
    assert second.lstrip().startswith('<div id="deliveries">') and "26\u201327 of 27" in second


@pytest.mark.django_db
def test_the_webhook_pages_run_a_constant_number_of_queries(tenant_a, owner_a):
    with tenant_context(tenant_a):
        endpoint = make_webhook_endpoint()
        message = WebhookMessage.objects.create(endpoint=endpoint, event_type="product.created", body="{}")
        WebhookDelivery.objects.create(message=message, endpoint=endpoint, attempt=1, succeeded=True, status_code=200)
    owner = console_client(owner_a)
    detail = f"{WEBHOOKS}{endpoint.id}/"
    before = (page_queries(owner, WEBHOOKS), page_queries(owner, detail))
    with tenant_context(tenant_a):
        for n in range(4):
            make_webhook_endpoint(url=f"https://hooks.example.com/{n}", is_active=bool(n % 2), created_by=owner_a.user)
            message = WebhookMessage.objects.create(endpoint=endpoint, event_type="product.created", body="{}")
            WebhookDelivery.objects.create(message=message, endpoint=endpoint, attempt=1, status_code=500)
    assert (page_queries(owner, WEBHOOKS), page_queries(owner, detail)) == before


# --- Connectors -------------------------------------------------------------------------


def _connector_body(warehouse, **fields):
    return {
        "kind": "shopify",
        "name": "Online shop",
        "shop_domain": "Acme.myshopify.com",
        "shared_secret": SECRET,
        "warehouse": str(warehouse.pk),
        "auto_confirm": "",
        "is_active": "on",
        **fields,
    }


def _errors(tenant):
    with tenant_context(tenant):
        return list(ConnectorError.objects.order_by("created_at"))


@pytest.mark.django_db
def test_a_connector_made_in_the_console_takes_an_order_after_a_retry(tenant_a, owner_a):
    with tenant_context(tenant_a):
        warehouse = make_warehouse("SHOP")
    owner = console_client(owner_a)
    made = owner.post(NEW_CONNECTOR, _connector_body(warehouse), follow=True)
    with tenant_context(tenant_a):
        connector = Connector.objects.get()
    assert made.redirect_chain == [(f"{CONNECTORS}{connector.id}/?status=open", 302)]
    page = made.content.decode()
    hook = f"http://testserver/api/v1/connectors/{connector.id}/shopify/orders/"
    assert f'value="{hook}"' in page and 'data-copy="#connector-webhook-url"' in page
    assert connector.shop_domain == "acme.myshopify.com" and connector.shared_secret == SECRET
    assert SECRET not in page

    # Shopify sends an order with a SKU the catalog lacks: kept as an open entry.
    body = body_of(order_payload(5001, lines=[("NEW-SKU", 1, "9.50")]))
    answer = APIClient().generic(
        "POST", hook, body.decode(), content_type="application/json", **signed_headers(body, webhook_id="wh-console")
    )
    assert answer.status_code == 200 and answer.json()["status"] == "failed"
    [entry] = _errors(tenant_a)
    listing = owner.get(CONNECTORS).content.decode()
    assert re.search(r"bg-red-lt\">1</span><span class=\"visually-hidden\"> open error of Online shop", listing)
    page = owner.get(f"{CONNECTORS}{connector.id}/").content.decode()
    assert 'data-entry="5001"' in page and "unknown_sku" in page and "NEW-SKU" in page
    assert "<details" in page and "&quot;line_items&quot;" in page  # the payload

    # Retry before the fix: refused again, one more attempt.
    retry = f"{CONNECTORS}{connector.id}/errors/{entry.id}/retry/"
    refused = owner.post(retry, follow=True).content.decode()
    assert "was refused again (unknown_sku)" in refused
    assert _errors(tenant_a)[0].attempts == 2

    # The product exists now: the retry makes the sales order and resolves the entry.
    with tenant_context(tenant_a):
        make_product(sku="NEW-SKU", name="New thing")
    done = owner.post(retry, follow=True).content.decode()
    [entry] = _errors(tenant_a)
    assert entry.status == ConnectorErrorStatus.RESOLVED and entry.resolved_by_id == owner_a.user_id
    with tenant_context(tenant_a):
        order = SalesOrder.objects.get()
    assert order.external_reference == "shopify:5001"
    assert "came through: sales order" in done and "No open errors" in done
    resolved = owner.get(f"{CONNECTORS}{connector.id}/", {"status": "resolved"}).content.decode()
    assert 'data-entry="5001"' in resolved and f"/sales-orders/{order.id}/" in resolved
    assert owner.post(retry, follow=True).status_code == 200  # resolved already: said, nothing done
    with tenant_context(tenant_a):
        assert SalesOrder.objects.count() == 1


@pytest.mark.django_db
def test_dismissed_entries_have_their_own_filter(tenant_a, owner_a):
    with tenant_context(tenant_a):
        connector = make_connector(make_warehouse("DIS"))
        kept = ConnectorError.objects.create(
            connector=connector, external_id="7", topic="orders/create", body="{}", code="no_lines", message="No."
        )
        dropped = ConnectorError.objects.create(
            connector=connector, external_id="8", topic="orders/create", body="{}", code="no_lines", message="No."
        )
    owner = console_client(owner_a)
    base = f"{CONNECTORS}{connector.id}/"
    page = owner.get(base).content.decode()
    assert 'data-confirm="Dismiss the error of shop order 8?' in page
    response = owner.post(f"{base}errors/{dropped.id}/dismiss/", follow=True)
    assert "is dismissed" in response.content.decode()

    def shown(state):
        return re.findall(r'data-entry="(\d+)"', owner.get(base, {"status": state}).content.decode())

    assert shown("open") == ["7"] and shown("dismissed") == ["8"] and shown("resolved") == []
    assert sorted(shown("all")) == ["7", "8"] and shown("nonsense") == ["7"]
    swapped = owner.get(base, {"status": "dismissed"}, HTTP_HX_REQUEST="true").content.decode()
    assert swapped.lstrip().startswith('<div id="entries">') and "<html" not in swapped
    assert re.search(r'active" href="\?status=dismissed"[^>]*aria-current="page"', swapped)
    assert {e.pk: e.status for e in _errors(tenant_a)} == {kept.pk: "open", dropped.pk: "resolved"}


@pytest.mark.django_db
def test_editing_with_an_empty_secret_keeps_it(tenant_a, owner_a):
    with tenant_context(tenant_a):
        warehouse = make_warehouse("EDT")
        other = make_warehouse("OTH")
        connector = make_connector(warehouse, name="Before")
    owner = console_client(owner_a)
    edit = f"{CONNECTORS}{connector.id}/edit/"
    form = owner.get(edit).content.decode()
    assert SECRET not in form and "Leave it empty to keep the current secret" in form
    assert f"/api/v1/connectors/{connector.id}/shopify/orders/" in form
    body = _connector_body(other, name="After", shared_secret="", shop_domain=connector.shop_domain, is_active="")
    assert owner.post(edit, body).status_code == 302
    with tenant_context(tenant_a):
        saved = Connector.objects.get()
    assert (saved.name, saved.shared_secret, saved.warehouse_id, saved.is_active) == ("After", SECRET, other.pk, False)
    assert owner.post(edit, {**body, "shared_secret": "brand-new"}).status_code == 302
    with tenant_context(tenant_a):
        assert Connector.objects.get().shared_secret == "brand-new"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"shop_domain": "acme.example.com"}, "Enter the shop&#x27;s myshopify.com address"),
        ({"shared_secret": ""}, "This field is required."),
        ({"name": ""}, "This field is required."),
        ({"kind": "woocommerce"}, "Select a valid choice."),
    ],
)
def test_a_bad_connector_form_is_answered_with_its_error(tenant_a, owner_a, fields, message):
    with tenant_context(tenant_a):
        warehouse = make_warehouse("BAD")
    response = console_client(owner_a).post(NEW_CONNECTOR, _connector_body(warehouse, **fields))
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(tenant_a):
        assert Connector.objects.count() == 0


@pytest.mark.django_db
def test_a_second_connector_for_a_shop_is_refused_under_the_domain(tenant_a, owner_a):
    with tenant_context(tenant_a):
        warehouse = make_warehouse("DUP")
        make_connector(warehouse, shop_domain="acme.myshopify.com")
    response = console_client(owner_a).post(NEW_CONNECTOR, _connector_body(warehouse))
    assert response.status_code == 400
    assert re.search(
        r'id="id_shop_domain_error">This workspace has a connector for this shop already', response.content.decode()
    )
    with tenant_context(tenant_a):
        assert Connector.objects.count() == 1


@pytest.mark.django_db
def test_deleting_a_connector_asks_first_and_keeps_its_orders(tenant_a, owner_a):
    with tenant_context(tenant_a):
        connector = make_connector(make_warehouse("DEL"), name="Old shop")
    owner = console_client(owner_a)
    form = owner.get(f"{CONNECTORS}{connector.id}/edit/").content.decode()
    assert 'data-confirm="Delete the connector Old shop (' in form
    response = owner.post(f"{CONNECTORS}{connector.id}/delete/", follow=True)
    assert response.redirect_chain == [(CONNECTORS, 302)] and "is deleted" in response.content.decode()
    with tenant_context(tenant_a):
        assert Connector.objects.count() == 0


@pytest.mark.django_db
def test_the_connector_pages_run_a_constant_number_of_queries(tenant_a, owner_a):
    with tenant_context(tenant_a):
        warehouse = make_warehouse("QRY")
        connector = make_connector(warehouse)
        ConnectorError.objects.create(
            connector=connector, external_id="first", topic="orders/create", body="{}", code="x", message="x"
        )
    owner = console_client(owner_a)
    detail = f"{CONNECTORS}{connector.id}/?status=all"
    before = (page_queries(owner, CONNECTORS), page_queries(owner, detail))
    with tenant_context(tenant_a):
        for n in range(4):
            make_connector(make_warehouse(f"Q{n}"))
            ConnectorError.objects.create(
                connector=connector, external_id=str(n), topic="orders/create", body="{}", code="x", message="x"
            )
        entry = ConnectorError.objects.get(connector=connector, external_id="0")
        connector_services.connector_error_dismiss(error_id=entry.pk, user=owner_a.user)
    assert (page_queries(owner, CONNECTORS), page_queries(owner, detail)) == before


@pytest.mark.django_db
def test_an_edit_looks_up_only_a_changed_url(tenant_a, owner_a, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    with tenant_context(tenant_a):
        endpoint = make_webhook_endpoint(url=HOOK_URL)  # made while private targets were allowed
    owner = console_client(owner_a)
    edit = f"{WEBHOOKS}{endpoint.id}/edit/"
    body = {"url": HOOK_URL, "description": "Renamed", "events": ["*"], "is_active": "on"}
    assert owner.post(edit, body).status_code == 302
    refused = owner.post(edit, {**body, "url": "http://10.0.0.5/hook", "description": "Moved"})
    assert refused.status_code == 400 and 'id="id_url_error"' in refused.content.decode()
    [saved] = _endpoints(tenant_a)
    assert (saved.url, saved.description) == (HOOK_URL, "Renamed")
