"""The event store: the relay's subscriber copies every event into MongoDB (idempotent on the
event id), and GET /api/v1/events/ reads the configured store with the audit log's filters.

MongoDB is replaced at the network boundary only: the client class (EVENT_STORE_CLIENT) is
mongomock's in CI, pymongo's against a closed port for the outage tests, and pymongo's
against a real server when TEST_MONGODB_URL is set (those tests are skipped otherwise:
no MongoDB server can be installed on the build machines)."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from integrations import event_store
from inventory.services import catalog
from inventory.tests.factories import make_product
from tenants import events
from tenants.context import tenant_context
from tenants.models import DomainEvent, EventCursor, Role
from tenants.tests.factories import client_for, client_for_key, make_api_key, make_member, make_tenant

EVENTS = "/api/v1/events/"
REAL_MONGODB = os.environ.get("TEST_MONGODB_URL", "")
needs_real_mongodb = pytest.mark.skipif(
    not REAL_MONGODB, reason="TEST_MONGODB_URL is not set (no MongoDB server on the build machines)"
)


def _use_mongodb(settings, url: str, client: str) -> None:
    settings.EVENT_STORE_URL = url
    settings.EVENT_STORE_CLIENT = client
    event_store.close()


@pytest.fixture
def mongomock_store(settings):
    """The event store on MongoDB, through mongomock (an in-memory server per client)."""
    _use_mongodb(settings, "mongodb://event-store.test/stockroom_test", "mongomock.MongoClient")
    event_store.subscribe()
    yield event_store.collection()
    events._SUBSCRIBERS.pop(event_store.SUBSCRIBER, None)
    event_store.close()


@pytest.fixture
def real_store(settings):
    """The event store on the real MongoDB of TEST_MONGODB_URL, its collection emptied."""
    _use_mongodb(settings, REAL_MONGODB, "pymongo.MongoClient")
    event_store.subscribe()
    stored = event_store.collection()
    stored.delete_many({})
    yield stored
    stored.drop()
    events._SUBSCRIBERS.pop(event_store.SUBSCRIBER, None)
    event_store.close()


@pytest.fixture(params=["postgresql", "mongomock", pytest.param("mongodb", marks=needs_real_mongodb)])
def store(request, settings):
    """Each backend in turn; ``copy`` puts the current tenant's events into it (MongoDB: what
    the relay's subscriber does; PostgreSQL: nothing, the outbox is the store)."""
    if request.param == "postgresql":
        settings.EVENT_STORE_URL = ""
        yield lambda: None
        return
    fixture = "mongomock_store" if request.param == "mongomock" else "real_store"
    request.getfixturevalue(fixture)
    yield lambda: event_store.store_events(list(DomainEvent.objects.order_by("txid", "seq")))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the socket is


@pytest.fixture
def mongodb_down(settings):
    """pymongo against a port nothing listens on: every call fails after a short wait."""
    settings.EVENT_STORE_TIMEOUT_MS = 200
    _use_mongodb(settings, f"mongodb://127.0.0.1:{_closed_port()}/stockroom", "pymongo.MongoClient")
    yield
    event_store.close()


def _types(client, **query):
    response = client.get(EVENTS, query)
    assert response.status_code == 200, response.content
    return [event["type"] for event in response.json()["results"]]


# --- The subscriber -----------------------------------------------------------------------------


def test_the_relay_copies_each_event_once_even_when_a_batch_comes_again(committed, mongomock_store):
    tenant = make_tenant(slug="store-once")
    with tenant_context(tenant):
        product = make_product(sku="ST-1")
        catalog.product_update(product=product, name="Renamed")

        assert events.relay(only=[event_store.SUBSCRIBER]) == {event_store.SUBSCRIBER: 2}
        recorded = list(DomainEvent.objects.order_by("txid", "seq"))
        event_store.store_events(recorded)  # the same batch delivered again: nothing written twice

    documents = list(mongomock_store.find().sort("created_at", 1))
    assert [d["_id"] for d in documents] == [str(e.id) for e in recorded]
    assert {d["tenant_id"] for d in documents} == {str(tenant.id)}
    assert [d["type"] for d in documents] == ["product.created", "product.updated"]
    assert documents[1]["changes"]["name"][1] == "Renamed"


def test_a_failing_store_leaves_the_relay_cursor_where_it_was(committed, settings, mongodb_down):
    event_store.subscribe()  # registered as at start-up with MongoDB configured
    tenant = make_tenant(slug="store-down")
    try:
        with tenant_context(tenant):
            make_product(sku="DOWN-1")

            assert events.relay(only=[event_store.SUBSCRIBER]) == {event_store.SUBSCRIBER: 0}
            # Rolled back with the failed batch: no cursor, or one that has not moved.
            assert not EventCursor.objects.filter(subscriber=event_store.SUBSCRIBER, delivered__gt=0).exists()

            # MongoDB is back: the next run delivers the batch.
            _use_mongodb(settings, "mongodb://event-store.test/stockroom_back", "mongomock.MongoClient")
            assert events.relay(only=[event_store.SUBSCRIBER]) == {event_store.SUBSCRIBER: 1}
            assert event_store.collection().count_documents({"tenant_id": str(tenant.id)}) == 1
    finally:
        events._SUBSCRIBERS.pop(event_store.SUBSCRIBER, None)


def test_no_subscriber_without_mongodb(settings):
    settings.EVENT_STORE_URL = ""
    event_store.subscribe()
    assert event_store.SUBSCRIBER not in events.subscribers()


@pytest.mark.django_db
def test_the_collection_has_tenant_first_indexes_and_the_retention_ttl(settings):
    settings.EVENT_STORE_RETENTION_DAYS = 30
    _use_mongodb(settings, "mongodb://event-store.test/indexed", "mongomock.MongoClient")
    try:
        indexes = event_store.collection().index_information()
        name = event_store.collection().full_name
    finally:
        event_store.close()

    assert name == "indexed.events"
    assert indexes["tenant_time"]["key"] == [("tenant_id", 1), ("created_at", -1), ("_id", -1)]
    assert indexes["tenant_type_time"]["key"] == [("tenant_id", 1), ("type", 1), ("created_at", -1), ("_id", -1)]
    assert indexes["tenant_subject_time"]["key"][:2] == [("tenant_id", 1), ("subject_id", 1)]
    assert indexes["retention"]["key"] == [("created_at", 1)]
    assert indexes["retention"]["expireAfterSeconds"] == 30 * 86400


@pytest.mark.django_db
def test_an_event_of_another_tenant_is_refused_by_the_store(tenant_a, tenant_b, mongomock_store):
    with tenant_context(tenant_a):
        make_product(sku="MINE")
        mine = list(DomainEvent.objects.all())
    with tenant_context(tenant_b), pytest.raises(ValueError):
        event_store.store_events(mine)
    assert mongomock_store.count_documents({}) == 0


# --- GET /api/v1/events/ ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_reads_the_configured_store_with_the_audit_logs_filters(client_a, owner_a, tenant_a, store):
    with tenant_context(tenant_a):
        first = make_product(sku="F-1")
        catalog.product_update(product=first, name="Renamed")
        make_product(sku="F-2")
        store()
    three = ["product.created", "product.created", "product.updated"]

    assert sorted(_types(client_a)) == three
    assert sorted(_types(client_a, type="product.")) == three
    assert _types(client_a, type="product.updated") == ["product.updated"]
    assert _types(client_a, type="product") == []  # not a prefix without its dot
    assert sorted(_types(client_a, subject=str(first.id))) == ["product.created", "product.updated"]
    assert _types(client_a, actor=str(owner_a.user_id)) == []  # written in a test's context: no user
    assert _types(client_a, created_after="2999-01-01T00:00:00Z") == []
    assert len(_types(client_a, created_before=(timezone.now() + timedelta(minutes=1)).isoformat())) == 3
    assert _types(client_a, created_before="2000-01-01T00:00:00Z") == []
    entry = client_a.get(EVENTS, {"type": "product.updated"}).json()["results"][0]
    assert set(entry) == {
        "id", "type", "subject_type", "subject_id", "data", "changes",
        "actor_user", "actor_api_key", "ip", "request_id", "created_at",
    }  # fmt: skip
    assert entry["subject_id"] == str(first.id) and entry["changes"]["name"][1] == "Renamed"


@pytest.mark.django_db
def test_the_actor_filter_matches_a_user_or_an_api_key(owner_a, tenant_a, store):
    key, raw = make_api_key(tenant_a, ["catalog:write", "audit:read"])
    by_key = client_for_key(raw).post("/api/v1/products/", {"sku": "K-1", "name": "By key", "unit": "pcs"})
    by_owner = client_for(owner_a).post("/api/v1/products/", {"sku": "U-1", "name": "By user", "unit": "pcs"})
    assert (by_key.status_code, by_owner.status_code) == (201, 201)
    with tenant_context(tenant_a):
        store()

    assert _types(client_for(owner_a), actor=str(key.pk)) == ["product.created"]
    assert _types(client_for_key(raw), actor=str(owner_a.user_id)) == ["product.created"]


@pytest.mark.django_db
def test_pages_walk_newest_first_without_gaps_and_back(client_a, tenant_a, store):
    with tenant_context(tenant_a):
        for n in range(5):
            make_product(sku=f"P-{n}")
        store()
    response = client_a.get(EVENTS, {"page_size": 200})
    assert response.status_code == 200, response.content
    everything = response.json()["results"]
    times = [datetime.fromisoformat(e["created_at"]) for e in everything]

    pages, url = [], EVENTS + "?page_size=2"
    while url:
        body = client_a.get(url).json()
        pages.append(body)
        url = body["next"]

    assert len(everything) == 5 and times == sorted(times, reverse=True)
    ids = [[e["id"] for e in page["results"]] for page in pages]
    assert ids == [[e["id"] for e in everything[i : i + 2]] for i in (0, 2, 4)]
    assert pages[0]["previous"] is None
    back = client_a.get(pages[2]["previous"]).json()
    assert [e["id"] for e in back["results"]] == ids[1]
    first = client_a.get(back["previous"]).json()
    assert [e["id"] for e in first["results"]] == ids[0] and first["previous"] is None


@pytest.mark.django_db
def test_tenant_b_never_sees_tenant_as_events_in_mongodb(tenant_a, tenant_b, client_b, mongomock_store):
    with tenant_context(tenant_a):
        secret = make_product(sku="A-SECRET")
        make_product(sku="A-OTHER")
        event_store.store_events(list(DomainEvent.objects.all()))
    a_page = client_for(make_member(tenant_a, Role.ADMIN)).get(EVENTS, {"page_size": 1}).json()
    with tenant_context(tenant_b):
        make_product(sku="B-OWN")
        event_store.store_events(list(DomainEvent.objects.all()))

    assert mongomock_store.count_documents({}) == 3  # one collection for both tenants
    assert [e["data"]["sku"] for e in client_b.get(EVENTS).json()["results"]] == ["B-OWN"]
    assert _types(client_b, subject=str(secret.id)) == []
    assert _types(client_b, type="product.", created_after="2000-01-01T00:00:00Z") == ["product.created"]
    # A cursor handed out to tenant A only positions tenant B's own list.
    [a_cursor] = parse_qs(urlsplit(a_page["next"]).query)["cursor"]
    from_a_cursor = client_b.get(EVENTS, {"cursor": a_cursor})
    assert from_a_cursor.status_code == 200 and "A-" not in from_a_cursor.content.decode()


@pytest.mark.django_db
def test_mongodb_down_is_a_503_with_a_code_never_a_500(client_a, mongodb_down):
    response = client_a.get(EVENTS)

    assert response.status_code == 503
    assert response.json()["code"] == "event_store_unavailable"


@pytest.mark.django_db
def test_only_admins_owners_and_keys_with_audit_read_read_the_store(tenant_a):
    for role, status in ((Role.VIEWER, 403), (Role.CLERK, 403), (Role.MANAGER, 403), (Role.ADMIN, 200)):
        assert client_for(make_member(tenant_a, role)).get(EVENTS).status_code == status
    _, with_scope = make_api_key(tenant_a, ["audit:read"])
    _, without = make_api_key(tenant_a, ["catalog:read"])
    assert client_for_key(with_scope).get(EVENTS).status_code == 200
    refused = client_for_key(without).get(EVENTS)
    assert refused.status_code == 403 and refused.json()["code"] == "scope_required"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"type": "x" * 100}, "invalid_parameter"),
        ({"actor": "not-a-uuid"}, "invalid_parameter"),
        ({"created_after": "yesterday"}, "invalid_parameter"),
        ({"created_after": "2026-02-01T00:00:00Z", "created_before": "2026-01-01T00:00:00Z"}, "invalid_parameter"),
        ({"page_size": "0"}, "invalid_parameter"),
        ({"cursor": "garbage"}, "invalid_cursor"),
        ({"cursor": "WyJub3QgYSB0aW1lIiwgIngiLCBmYWxzZV0"}, "invalid_cursor"),  # ["not a time", "x", false]
        ({"subject": "a\x00b"}, "invalid_parameter"),
    ],
)
def test_bad_input_is_a_400_with_a_code(client_a, query, code, store):
    response = client_a.get(EVENTS, query)

    assert response.status_code == 400, response.content
    assert response.json()["code"] == code


# --- A real MongoDB (TEST_MONGODB_URL) ----------------------------------------------------------


@needs_real_mongodb
@pytest.mark.django_db
def test_real_mongodb_writes_once_and_applies_a_changed_retention(settings, tenant_a, real_store):
    with tenant_context(tenant_a):
        make_product(sku="REAL-1")
        recorded = list(DomainEvent.objects.all())
        event_store.store_events(recorded)
        event_store.store_events(recorded)

    settings.EVENT_STORE_RETENTION_DAYS = 7
    event_store.ensure_indexes(real_store)

    assert real_store.count_documents({"tenant_id": str(tenant_a.id)}) == 1
    assert real_store.index_information()["retention"]["expireAfterSeconds"] == 7 * 86400
