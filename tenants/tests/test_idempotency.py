"""Safe retries with ``Idempotency-Key`` (tenants/idempotency.py): a retry replays the first
response and writes nothing; another body is 422; a key still running is 409; two requests
at once write once; keys expire; workspaces never share keys; hostile keys are 400."""

import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from inventory.models import StockLevel, StockMovement
from inventory.tests.factories import make_product, make_warehouse, receive
from orders.models import SalesOrder
from orders.tests.factories import make_customer
from tenants.context import tenant_context
from tenants.models import IdempotentResponse, Role
from tenants.tasks import delete_expired_idempotency_keys
from tenants.tests.factories import PASSWORD, client_for, make_member, make_tenant
from tenants.tests.threads import in_threads

RECEIVE = "/api/v1/stock/receive/"


def _key() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def stock(in_a):
    return make_product(sku="BOLT-1"), make_warehouse("MAIN")


def _receipt(stock, quantity="10"):
    product, warehouse = stock
    return {"product": str(product.id), "warehouse": str(warehouse.id), "quantity": quantity}


# --- Replays -------------------------------------------------------------------------


@pytest.mark.django_db
def test_retry_with_the_same_key_replays_the_response_and_writes_no_second_movement(client_a, stock):
    key = _key()
    first = client_a.post(RECEIVE, _receipt(stock), HTTP_IDEMPOTENCY_KEY=key)

    retry = client_a.post(RECEIVE, _receipt(stock), HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == 201, first.content
    assert not first.has_header("Idempotent-Replayed")
    assert retry.status_code == 201
    assert retry.content == first.content
    assert retry["Content-Type"] == first["Content-Type"]
    assert retry["Idempotent-Replayed"] == "true"
    assert StockMovement.objects.count() == 1
    assert StockLevel.objects.get().on_hand == Decimal("10")


@pytest.mark.django_db
def test_retry_of_a_sales_order_create_makes_one_order(client_a, stock):
    product, warehouse = stock
    body = {
        "customer": str(make_customer().id),
        "lines": [{"product": str(product.id), "warehouse": str(warehouse.id), "quantity": "2", "unit_price": "3"}],
    }
    key = _key()

    first = client_a.post("/api/v1/sales-orders/", body, HTTP_IDEMPOTENCY_KEY=key)
    retry = client_a.post("/api/v1/sales-orders/", body, HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == 201, first.content
    assert (retry.status_code, retry.content, retry["Idempotent-Replayed"]) == (201, first.content, "true")
    assert SalesOrder.objects.count() == 1


@pytest.mark.django_db
def test_patch_and_delete_replay_too(client_a, in_a):
    warehouse = make_warehouse("EAST")
    patch_key, delete_key = _key(), _key()
    url = f"/api/v1/warehouses/{warehouse.id}/"

    patched = client_a.patch(url, {"name": "East"}, HTTP_IDEMPOTENCY_KEY=patch_key)
    client_a.patch(url, {"name": "Changed in between"})
    replayed = client_a.patch(url, {"name": "East"}, HTTP_IDEMPOTENCY_KEY=patch_key)

    assert patched.status_code == 200 and replayed.status_code == 200
    assert replayed.content == patched.content and replayed["Idempotent-Replayed"] == "true"
    warehouse.refresh_from_db()
    assert warehouse.name == "Changed in between"  # the replay wrote nothing
    deleted = client_a.delete(url, HTTP_IDEMPOTENCY_KEY=delete_key)
    again = client_a.delete(url, HTTP_IDEMPOTENCY_KEY=delete_key)
    assert deleted.status_code == 204 and again.status_code == 204 and again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_requests_without_the_header_are_not_stored(client_a, stock):
    client_a.post(RECEIVE, _receipt(stock))
    client_a.post(RECEIVE, _receipt(stock))

    assert StockMovement.objects.count() == 2
    assert not IdempotentResponse.objects.exists()


@pytest.mark.django_db
def test_same_key_with_another_body_is_422_and_writes_nothing(client_a, stock):
    key = _key()
    client_a.post(RECEIVE, _receipt(stock, "10"), HTTP_IDEMPOTENCY_KEY=key)

    response = client_a.post(RECEIVE, _receipt(stock, "11"), HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert StockMovement.objects.count() == 1
    assert StockLevel.objects.get().on_hand == Decimal("10")


@pytest.mark.django_db
def test_same_key_with_another_query_string_is_422(client_a, stock):
    key = _key()
    client_a.post(RECEIVE, _receipt(stock), HTTP_IDEMPOTENCY_KEY=key)

    response = client_a.post(f"{RECEIVE}?x=1", _receipt(stock), HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 422 and StockMovement.objects.count() == 1


@pytest.mark.django_db
def test_another_member_reusing_the_key_is_422_and_never_sees_the_stored_response(client_a, tenant_a, stock):
    key = _key()
    client_a.post(RECEIVE, _receipt(stock), HTTP_IDEMPOTENCY_KEY=key)
    clerk = client_for(make_member(tenant_a, Role.CLERK))

    response = client_a.post(RECEIVE, _receipt(stock), HTTP_IDEMPOTENCY_KEY=key)
    other = clerk.post(RECEIVE, _receipt(stock), HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 201
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert StockMovement.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_on_another_route_is_another_request(client_a, stock):
    key = _key()
    received = client_a.post(RECEIVE, _receipt(stock), HTTP_IDEMPOTENCY_KEY=key)

    issued = client_a.post("/api/v1/stock/issue/", _receipt(stock, "4"), HTTP_IDEMPOTENCY_KEY=key)

    assert received.status_code == 201 and issued.status_code == 201, issued.content
    assert not issued.has_header("Idempotent-Replayed")
    assert StockLevel.objects.get().on_hand == Decimal("6")


@pytest.mark.django_db
def test_a_failed_request_is_not_stored_and_its_retry_runs(client_a, stock):
    key = _key()
    refused = client_a.post("/api/v1/stock/issue/", _receipt(stock, "5"), HTTP_IDEMPOTENCY_KEY=key)
    receive(stock[0], stock[1], 5)

    retried = client_a.post("/api/v1/stock/issue/", _receipt(stock, "5"), HTTP_IDEMPOTENCY_KEY=key)

    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_stock"
    assert retried.status_code == 201, retried.content
    assert not retried.has_header("Idempotent-Replayed")
    assert StockLevel.objects.get().on_hand == 0


@pytest.mark.django_db
def test_an_upload_larger_than_the_memory_limit_is_fingerprinted_and_still_reaches_the_view(client_a, in_a, settings):
    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inventory.models import ImportJob

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64  # the body is read in chunks, not as request.body
    csv = b"sku,name\n" + b"".join(b"SKU-%d,Product %d\n" % (n, n) for n in range(50))
    key = _key()

    def upload(content=csv):
        return client_a.post(
            "/api/v1/imports/",
            {"file": SimpleUploadedFile("p.csv", content)},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    first, retry, other = upload(), upload(), upload(csv + b"SKU-X,X\n")

    assert first.status_code == 202, first.content
    assert retry.status_code == 202 and retry["Idempotent-Replayed"] == "true" and retry.content == first.content
    assert other.status_code == 422
    job = ImportJob.objects.get()
    with default_storage.open(job.storage_key) as stored:
        assert stored.read() == csv


# --- Workspaces -------------------------------------------------------------------------


@pytest.mark.django_db
def test_tenant_b_reusing_a_key_of_tenant_a_gets_its_own_result(client_a, client_b, tenant_a, tenant_b):
    with tenant_context(tenant_a):
        stock_a = make_product(sku="A"), make_warehouse("WA")
    with tenant_context(tenant_b):
        stock_b = make_product(sku="B"), make_warehouse("WB")
    key = _key()

    in_a = client_a.post(RECEIVE, _receipt(stock_a, "10"), HTTP_IDEMPOTENCY_KEY=key)
    in_b = client_b.post(RECEIVE, _receipt(stock_b, "3"), HTTP_IDEMPOTENCY_KEY=key)

    assert in_a.status_code == 201 and in_b.status_code == 201, in_b.content
    assert not in_b.has_header("Idempotent-Replayed") and in_b.content != in_a.content
    with tenant_context(tenant_a):
        assert StockLevel.objects.get().on_hand == 10 and IdempotentResponse.objects.count() == 1
    with tenant_context(tenant_b):
        assert StockLevel.objects.get().on_hand == 3 and IdempotentResponse.objects.count() == 1


# --- Expiry --------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_expired_key_runs_again(client_a, stock, settings):
    key = _key()
    client_a.post(RECEIVE, _receipt(stock), HTTP_IDEMPOTENCY_KEY=key)
    IdempotentResponse.objects.update(
        created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
    )

    retry = client_a.post(RECEIVE, _receipt(stock, "1"), HTTP_IDEMPOTENCY_KEY=key)

    assert retry.status_code == 201 and not retry.has_header("Idempotent-Replayed")
    assert StockLevel.objects.get().on_hand == Decimal("11")
    assert IdempotentResponse.objects.count() == 1


def test_the_sweep_deletes_expired_responses_of_every_tenant_and_keeps_fresh_ones(committed, settings):
    tenants = [make_tenant(slug="sweep-a"), make_tenant(slug="sweep-b")]
    for tenant in tenants:
        with tenant_context(tenant):
            old = IdempotentResponse.objects.create(
                key="old", route="POST /x/", fingerprint="f", status_code=201, body=b""
            )
            IdempotentResponse.objects.filter(pk=old.pk).update(
                created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS + 1)
            )
            IdempotentResponse.objects.create(key="new", route="POST /x/", fingerprint="f", status_code=201, body=b"")

    assert delete_expired_idempotency_keys() == 2

    for tenant in tenants:
        with tenant_context(tenant):
            assert list(IdempotentResponse.objects.values_list("key", flat=True)) == ["new"]


# --- Hostile and ignored headers ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    ["", " ", "a b", "a" * 256, "é", "key\x00", "line\nbreak", "tab\t", "\u202etxt", "😀"],
    ids=["empty", "space", "inner-space", "too-long", "latin1", "nul", "newline", "tab", "bidi", "emoji"],
)
def test_a_hostile_key_is_400_and_writes_nothing(client_a, stock, value):
    response = client_a.post(RECEIVE, _receipt(stock), HTTP_IDEMPOTENCY_KEY=value)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert response.json()["request_id"]
    assert not StockMovement.objects.exists() and not IdempotentResponse.objects.exists()


@pytest.mark.django_db
def test_the_longest_key_is_accepted(client_a, stock):
    key = "k" * 255
    first = client_a.post(RECEIVE, _receipt(stock), HTTP_IDEMPOTENCY_KEY=key)
    retry = client_a.post(RECEIVE, _receipt(stock), HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == 201 and retry["Idempotent-Replayed"] == "true"
    assert StockMovement.objects.count() == 1


@pytest.mark.django_db
def test_reads_never_touch_the_mechanism(client_a, stock):
    from django.test.utils import CaptureQueriesContext

    client_a.get("/api/v1/warehouses/")  # warm the membership cache
    with CaptureQueriesContext(connection) as plain:
        client_a.get("/api/v1/warehouses/")
    with CaptureQueriesContext(connection) as keyed:
        response = client_a.get("/api/v1/warehouses/", HTTP_IDEMPOTENCY_KEY="not a valid key")

    assert response.status_code == 200
    assert len(keyed.captured_queries) == len(plain.captured_queries)
    assert not any("advisory" in q["sql"] or "idempotent" in q["sql"] for q in keyed.captured_queries)


@pytest.mark.django_db
def test_routes_without_a_workspace_ignore_the_header(api, owner_a):
    response = api.post(
        "/api/v1/auth/token/",
        {"email": owner_a.user.email, "password": PASSWORD},
        HTTP_IDEMPOTENCY_KEY="not a valid key",
    )

    assert response.status_code == 200, response.content
    assert not IdempotentResponse.unscoped.exists()


@pytest.mark.django_db
def test_an_invalid_token_is_401_whatever_the_key(api, stock):
    api.credentials(HTTP_AUTHORIZATION="Bearer nope")
    response = api.post(RECEIVE, _receipt(stock), HTTP_IDEMPOTENCY_KEY="not a valid key")

    assert response.status_code == 401


# --- Concurrency (real threads, real commits) ---------------------------------------------


def _committed_stock(slug):
    owner = make_member(make_tenant(slug=slug), Role.OWNER)
    with tenant_context(owner.tenant):
        stock = make_product(sku="RACE"), make_warehouse("W")
    return owner, stock


def test_simultaneous_requests_with_one_key_write_exactly_once(committed):
    owner, stock = _committed_stock("idem-race")
    key, body = _key(), _receipt(stock, "7")
    responses = []

    def post():
        responses.append(client_for(owner).post(RECEIVE, body, HTTP_IDEMPOTENCY_KEY=key))

    in_threads(*(post for _ in range(6)))

    statuses = sorted((r.status_code, r.has_header("Idempotent-Replayed")) for r in responses)
    originals = [r for r in responses if r.status_code == 201 and not r.has_header("Idempotent-Replayed")]
    assert len(originals) == 1, statuses
    assert all(s in {(201, False), (201, True), (409, False)} for s in statuses), statuses
    for response in responses:
        if response.status_code == 201:
            assert response.content == originals[0].content
        else:
            assert response.json()["code"] == "request_in_progress"
    with tenant_context(owner.tenant):
        assert StockMovement.objects.count() == 1
        assert StockLevel.objects.get().on_hand == Decimal("7")
        assert IdempotentResponse.objects.count() == 1


def _advisory_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        return int(cursor.fetchone()[0])


def test_a_retry_while_the_first_request_runs_is_409_and_then_replays(committed):
    owner, stock = _committed_stock("idem-running")
    with tenant_context(owner.tenant):
        receive(stock[0], stock[1], 1)  # the level exists: the first request will wait for its lock
    key, body = _key(), _receipt(stock, "2")
    holding, release = threading.Event(), threading.Event()
    first: list = []

    def hold_the_level():
        with tenant_context(owner.tenant), transaction.atomic():
            StockLevel.objects.select_for_update().get()
            holding.set()
            release.wait(30)
        connection.close()

    def first_request():
        first.append(client_for(owner).post(RECEIVE, body, HTTP_IDEMPOTENCY_KEY=key))
        connection.close()

    blocker = threading.Thread(target=hold_the_level)
    blocker.start()
    assert holding.wait(10)
    runner = threading.Thread(target=first_request)
    runner.start()
    deadline = time.monotonic() + 10
    while _advisory_locks() == 0:  # the first request holds its key, waiting for the level
        assert time.monotonic() < deadline
        time.sleep(0.02)

    during = client_for(owner).post(RECEIVE, body, HTTP_IDEMPOTENCY_KEY=key)
    release.set()
    blocker.join(30)
    runner.join(30)
    after = client_for(owner).post(RECEIVE, body, HTTP_IDEMPOTENCY_KEY=key)

    assert during.status_code == 409 and during.json()["code"] == "request_in_progress"
    assert first[0].status_code == 201, first[0].content
    assert after.status_code == 201 and after["Idempotent-Replayed"] == "true" and after.content == first[0].content
    with tenant_context(owner.tenant):
        assert StockLevel.objects.get().on_hand == Decimal("3")
        assert StockMovement.objects.count() == 2
