"""The operations admin: platform staff (signed in through the console) read billing
accounts and Stripe events through the ops alias; nobody else gets in; nothing is writable.
Real commits: the admin reads on another connection (the ops role)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import BillingAccount, StripeEvent
from tenants.tests.factories import PASSWORD, make_member, make_tenant, make_user

ADMIN = "/ops/admin/"


def _signed_in(user) -> Client:
    client = Client()
    response = client.post("/login/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def billing_rows(committed):
    tenant = make_tenant(name="Zebra Supplies", slug="zebra")
    account = BillingAccount.objects.create(
        tenant=tenant,
        stripe_customer_id="cus_ZEBRA",
        stripe_subscription_id="sub_ZEBRA",
        plan_code="pro",
        status="past_due",
    )
    event = StripeEvent.objects.create(
        id="evt_ZEBRA_1",
        type="invoice.payment_failed",
        created=timezone.now(),
        payload={"id": "evt_ZEBRA_1", "data": {"object": {"customer": "cus_ZEBRA"}}},
        tenant=tenant,
        last_error="StripeUnavailable: down",
    )
    return tenant, account, event


def test_staff_read_billing_accounts_and_stripe_events(billing_rows):
    tenant, _, event = billing_rows
    staff = _signed_in(make_user(is_staff=True))

    index = staff.get(ADMIN)
    accounts = staff.get(f"{ADMIN}billing/billingaccount/", {"q": "cus_ZEBRA"})
    events = staff.get(f"{ADMIN}billing/stripeevent/", {"q": "evt_ZEBRA_1"})
    detail = staff.get(f"{ADMIN}billing/stripeevent/{event.pk}/change/")
    by_workspace = staff.get(f"{ADMIN}billing/stripeevent/", {"tenant__id__exact": str(tenant.pk)})

    assert index.status_code == 200 and b"Stripe events" in index.content
    assert accounts.status_code == 200 and b"Zebra Supplies" in accounts.content and b"past_due" in accounts.content
    assert events.status_code == 200 and b"invoice.payment_failed" in events.content
    assert detail.status_code == 200 and b"cus_ZEBRA" in detail.content
    assert by_workspace.status_code == 200 and b"evt_ZEBRA_1" in by_workspace.content


def test_nothing_is_writable_even_for_staff(billing_rows):
    _, _, event = billing_rows
    staff = _signed_in(make_user(is_staff=True))

    add = staff.get(f"{ADMIN}billing/billingaccount/add/")
    delete = staff.post(f"{ADMIN}billing/stripeevent/{event.pk}/delete/", {"post": "yes"})

    assert add.status_code == 403 and delete.status_code == 403
    assert StripeEvent.objects.filter(pk=event.pk).exists()


def test_members_who_are_not_staff_and_visitors_are_sent_to_the_console_login(billing_rows):
    tenant, _, _ = billing_rows
    owner = make_member(tenant)

    visitor = Client().get(f"{ADMIN}billing/billingaccount/")
    member = _signed_in(owner.user).get(f"{ADMIN}billing/billingaccount/")

    for response in (visitor, member):
        assert response.status_code == 302
        assert response["Location"].startswith(f"{ADMIN}login/")
    followed = Client().get(visitor["Location"])
    assert followed.status_code == 302 and followed["Location"].startswith("/login/?next=")
