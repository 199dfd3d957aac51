"""/api/v1/webhook-endpoints/: admins and owners (and API keys with webhooks:*) manage the
endpoints; the secret is shown once, at creation or rotation, never in a list or a read."""

from __future__ import annotations

import re

import pytest

from integrations.models import WebhookEndpoint
from integrations.tests.factories import make_webhook_endpoint
from tenants.context import tenant_context
from tenants.models import DomainEvent
from tenants.tests.factories import client_for, client_for_key, make_api_key, make_member

pytestmark = pytest.mark.django_db

SECRET_PATTERN = r"^whsec_[A-Za-z0-9+/]{43}=$"


def _create(client, **body):
    payload = {"url": "http://127.0.0.1:9/hook", "events": ["product.*"], **body}
    return client.post("/api/v1/webhook-endpoints/", payload, format="json")


def test_create_shows_the_secret_once_and_records_the_event(client_a, tenant_a):
    response = _create(client_a, description="ERP", events=["product.*", "stock.changed", "product.*"])
    assert response.status_code == 201, response.content
    created = response.json()
    assert re.fullmatch(SECRET_PATTERN, created["secret"])
    assert created["events"] == ["product.*", "stock.changed"]  # duplicates dropped, order kept
    assert created["is_active"] is True and created["description"] == "ERP"
    listed = client_a.get("/api/v1/webhook-endpoints/").json()["results"]
    read = client_a.get(f"/api/v1/webhook-endpoints/{created['id']}/").json()
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0] and "secret" not in read
    assert created["secret"] not in str(listed) + str(read)
    with tenant_context(tenant_a):
        event = DomainEvent.objects.get(type="webhook_endpoint.created")
    assert event.subject_id == created["id"] and event.data["events"] == ["product.*", "stock.changed"]
    assert created["secret"] not in str(event.data)


@pytest.mark.parametrize(
    ("events", "field_code"),
    [
        (["product.exploded"], "invalid_event_type"),
        (["nothing.*"], "invalid_event_type"),
        (["product."], "invalid_event_type"),
        (["*.*"], "invalid_event_type"),
        ([], "min_length"),
        ("product.created", "not_a_list"),
    ],
)
def test_unknown_event_types_are_a_400_that_writes_nothing(client_a, tenant_a, events, field_code):
    response = _create(client_a, events=events)
    assert response.status_code == 400
    assert response.json()["fields"]["events"][0]["code"] == field_code
    with tenant_context(tenant_a):
        assert not WebhookEndpoint.objects.exists()


def test_update_changes_fields_and_turning_off_records_disabled(client_a, tenant_a):
    endpoint_id = _create(client_a).json()["id"]
    response = client_a.patch(
        f"/api/v1/webhook-endpoints/{endpoint_id}/", {"events": ["*"], "is_active": False}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["events"] == ["*"] and body["is_active"] is False and body["disabled_reason"] == "manual"
    with tenant_context(tenant_a):
        disabled = DomainEvent.objects.get(type="webhook_endpoint.disabled")
    assert disabled.data["reason"] == "manual"
    again = client_a.patch(f"/api/v1/webhook-endpoints/{endpoint_id}/", {"is_active": True}, format="json").json()
    assert again["is_active"] is True and again["disabled_reason"] == "" and again["disabled_at"] is None


def test_rotate_secret_shows_the_new_secret_once_and_keeps_the_old_for_a_day(client_a, tenant_a):
    created = _create(client_a).json()
    response = client_a.post(f"/api/v1/webhook-endpoints/{created['id']}/rotate-secret/")
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["secret"] != created["secret"] and rotated["secret"].startswith("whsec_")
    read = client_a.get(f"/api/v1/webhook-endpoints/{created['id']}/").json()
    assert read["previous_secret_expires_at"] is not None and "secret" not in read
    with tenant_context(tenant_a):
        endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert (endpoint.secret, endpoint.previous_secret) == (rotated["secret"], created["secret"])


def test_idempotency_key_does_not_replay_the_secret(client_a):
    response = client_a.post(
        "/api/v1/webhook-endpoints/",
        {"url": "http://127.0.0.1:9/hook", "events": ["*"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="wh-1",
    )
    again = client_a.post(
        "/api/v1/webhook-endpoints/",
        {"url": "http://127.0.0.1:9/hook", "events": ["*"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="wh-1",
    )
    assert response.status_code == again.status_code == 201
    assert response.json()["id"] != again.json()["id"]  # not kept: a retry is a new endpoint


def test_delete_removes_the_endpoint(client_a, tenant_a):
    endpoint_id = _create(client_a).json()["id"]
    assert client_a.delete(f"/api/v1/webhook-endpoints/{endpoint_id}/").status_code == 204
    assert client_a.get(f"/api/v1/webhook-endpoints/{endpoint_id}/").status_code == 404


def test_only_admins_and_owners_manage_endpoints(tenant_a):
    for role, status in (("viewer", 403), ("clerk", 403), ("manager", 403), ("admin", 201)):
        assert _create(client_for(make_member(tenant_a, role))).status_code == status
    for role, status in (("manager", 403), ("admin", 200)):
        assert client_for(make_member(tenant_a, role)).get("/api/v1/webhook-endpoints/").status_code == status


def test_api_keys_need_the_webhooks_scopes(tenant_a):
    _, reader = make_api_key(tenant_a, ["webhooks:read"])
    _, writer = make_api_key(tenant_a, ["webhooks:write"])
    _, other = make_api_key(tenant_a, ["catalog:read", "catalog:write"])
    assert client_for_key(reader).get("/api/v1/webhook-endpoints/").status_code == 200
    refused = _create(client_for_key(reader))
    assert refused.status_code == 403 and refused.json()["details"] == {"scope": "webhooks:write"}
    assert _create(client_for_key(writer)).status_code == 201
    assert client_for_key(other).get("/api/v1/webhook-endpoints/").status_code == 403


def test_another_tenants_endpoints_are_invisible(client_a, client_b, tenant_b):
    with tenant_context(tenant_b):
        theirs = make_webhook_endpoint()
    assert client_a.get("/api/v1/webhook-endpoints/").json()["results"] == []
    for method, path in (
        ("get", f"/api/v1/webhook-endpoints/{theirs.id}/"),
        ("get", f"/api/v1/webhook-endpoints/{theirs.id}/deliveries/"),
        ("post", f"/api/v1/webhook-endpoints/{theirs.id}/test/"),
        ("post", f"/api/v1/webhook-endpoints/{theirs.id}/rotate-secret/"),
        ("delete", f"/api/v1/webhook-endpoints/{theirs.id}/"),
    ):
        assert getattr(client_a, method)(path).status_code == 404


def test_a_test_message_to_a_disabled_endpoint_is_a_409(client_a):
    endpoint_id = _create(client_a, is_active=False).json()["id"]
    response = client_a.post(f"/api/v1/webhook-endpoints/{endpoint_id}/test/")
    assert response.status_code == 409 and response.json()["code"] == "webhook_endpoint_disabled"


@pytest.mark.parametrize("body", [{"since": "yesterday"}, {}, {"since": None}])
def test_recover_needs_a_time(client_a, body):
    endpoint_id = _create(client_a).json()["id"]
    response = client_a.post(f"/api/v1/webhook-endpoints/{endpoint_id}/recover/", body, format="json")
    assert response.status_code == 400 and "since" in response.json()["fields"]


@pytest.mark.parametrize("delivery_id", ["0" * 36, "-" * 36, "00000000-0000-4000-8000-000000000000"])
def test_redelivering_an_id_that_is_no_attempt_is_a_404(client_a, delivery_id):
    """Found by the schema conformance test: a 36-character id that is no uuid was a 500."""
    response = client_a.post(f"/api/v1/webhook-deliveries/{delivery_id}/redeliver/")

    assert response.status_code == 404 and response.json()["code"] == "not_found"
