"""Prometheus metrics (core/metrics.py): the /metrics page and its token, the request,
query, Celery and queue metrics, and counters that wait for the commit."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest
import redis
from celery import shared_task
from django.db import transaction
from django.test import Client
from kombu import Exchange, Queue
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from core import metrics
from core.metrics_middleware import route_of
from inventory.services.stock import stock_receive
from inventory.tests.factories import make_product, make_warehouse

TOKEN = "metrics-token-" + "x" * 24


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _scrape(client, token: str = TOKEN):
    """A scrape with ``token``, from a client of its own (an API client's credentials would win)."""
    return Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def _families(response) -> dict:
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


# --- /metrics and its token -------------------------------------------------------------------


def test_without_a_token_configured_there_is_no_metrics_page(client, settings):
    settings.METRICS_TOKEN = ""
    response = _scrape(client, "anything")
    assert response.status_code == 404
    assert b"stockroom_http_requests_total" not in response.content


def test_metrics_without_the_header_is_401_in_the_error_shape(client, settings):
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "not_authenticated" and set(body) >= {"message", "fields", "details", "request_id"}
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer wrong", f"Basic {TOKEN}"])
def test_metrics_with_a_wrong_token_is_refused(client, settings, header):
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=header)
    assert response.status_code in {401, 403}
    assert response.json()["code"] in {"not_authenticated", "permission_denied"}
    if header.startswith("Bearer"):
        assert response.status_code == 403


def test_metrics_with_the_token_is_the_text_format(client, settings):
    settings.METRICS_TOKEN = TOKEN
    client.get("/healthz")
    response = _scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    families = _families(response)
    assert "stockroom_http_requests" in families
    assert families["stockroom_http_request_duration_seconds"].type == "histogram"


def test_a_scraper_calling_the_task_by_its_address_gets_the_metrics(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.ALLOWED_HOSTS = ["app.example.com"]
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_HOST="10.0.3.17:8000")
    assert response.status_code == 200
    assert b"stockroom_http_requests_total" in response.content
    denied = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", HTTP_HOST="10.0.3.17:8000")
    assert denied.status_code == 403  # the token is still checked


@pytest.mark.django_db
def test_metrics_is_not_in_the_openapi_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    assert not any(path.rstrip("/").endswith("metrics") for path in schema["paths"])


# --- Requests ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_is_counted_under_its_url_pattern_not_its_path(client_a, in_a, settings):
    product = make_product(sku="METRIC-1")
    route = "api/v1/products/<pk>/"  # the router's pattern, as people read it
    before = _value("stockroom_http_requests_total", route=route, method="GET", status="200")
    queries_before = _value("stockroom_http_request_db_queries_count", route=route, method="GET")
    queries_sum_before = _value("stockroom_http_request_db_queries_sum", route=route, method="GET")

    response = client_a.get(f"/api/v1/products/{product.id}/")

    assert response.status_code == 200, response.content
    assert _value("stockroom_http_requests_total", route=route, method="GET", status="200") == before + 1
    assert _value("stockroom_http_request_duration_seconds_count", route=route, method="GET", status="200") >= 1
    # The query count of the request was observed, and it ran at least the product's read.
    assert _value("stockroom_http_request_db_queries_count", route=route, method="GET") == queries_before + 1
    assert _value("stockroom_http_request_db_queries_sum", route=route, method="GET") >= queries_sum_before + 1
    settings.METRICS_TOKEN = TOKEN
    text = _scrape(client_a).content.decode()
    assert str(product.id) not in text  # the raw path is never a label
    assert "api/v1/products/<pk>/" in text and "(?P<" not in text


def test_a_path_that_matches_nothing_is_unmatched(client):
    before = _value("stockroom_http_requests_total", route=metrics.UNMATCHED_ROUTE, method="GET", status="404")
    client.get(f"/no-such-page-{uuid.uuid4().hex}/")
    assert _value("stockroom_http_requests_total", route=metrics.UNMATCHED_ROUTE, method="GET", status="404") == (
        before + 1
    )


def test_an_unusual_method_is_other(client):
    before = _value("stockroom_http_requests_total", route="healthz", method="other", status="405")
    client.generic("BREW", "/healthz")
    assert _value("stockroom_http_requests_total", route="healthz", method="other", status="405") == before + 1


def test_route_of_a_response_given_before_resolution_resolves_the_path(rf):
    request = rf.get("/healthz")
    assert route_of(request, 301) == "healthz"
    assert route_of(rf.get("/nothing-here"), 301) == metrics.UNMATCHED_ROUTE
    assert route_of(rf.get("/healthz"), 404) == metrics.UNMATCHED_ROUTE


# --- Celery -----------------------------------------------------------------------------------


@shared_task(name="core.tests.test_metrics.multiply")
def multiply(a: int, b: int) -> int:
    return a * b


@shared_task(name="core.tests.test_metrics.explode")
def explode() -> None:
    raise ValueError("boom")


def test_a_task_run_is_counted_and_timed_by_name_and_state():
    name = "core.tests.test_metrics.multiply"
    before = _value("stockroom_celery_tasks_total", task=name, state="succeeded")
    timed = _value("stockroom_celery_task_duration_seconds_count", task=name, state="succeeded")

    assert multiply.delay(6, 7).get() == 42  # eager (the test settings), through Celery's tracer

    assert _value("stockroom_celery_tasks_total", task=name, state="succeeded") == before + 1
    assert _value("stockroom_celery_task_duration_seconds_count", task=name, state="succeeded") == timed + 1


def test_a_failed_task_is_counted_as_failed():
    name = "core.tests.test_metrics.explode"
    before = _value("stockroom_celery_tasks_total", task=name, state="failed")
    # As a worker runs it (the error recorded, not raised into the caller; the eager mode of
    # the test settings would raise it before Celery's tracer reports anything).
    result = explode.apply(throw=False)
    assert isinstance(result.result, ValueError)
    assert _value("stockroom_celery_tasks_total", task=name, state="failed") == before + 1
    assert _value("stockroom_celery_task_duration_seconds_count", task=name, state="failed") >= 1


@shared_task(name="core.tests.test_metrics.flaky", bind=True, max_retries=1, default_retry_delay=0)
def flaky(self) -> str:
    if self.request.retries == 0:
        raise self.retry()
    return "done"


def test_a_retried_task_is_counted_as_retried_then_succeeded():
    name = "core.tests.test_metrics.flaky"
    retried = _value("stockroom_celery_tasks_total", task=name, state="retried")
    succeeded = _value("stockroom_celery_tasks_total", task=name, state="succeeded")
    flaky.apply(throw=False)
    assert _value("stockroom_celery_tasks_total", task=name, state="retried") == retried + 1
    assert _value("stockroom_celery_tasks_total", task=name, state="succeeded") == succeeded + 1


# --- Queue depth ------------------------------------------------------------------------------


def test_queue_depth_is_each_queue_s_length_in_the_broker(client, settings):
    queue = f"test-depth-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_QUEUES = [Queue(queue, Exchange(queue), routing_key=queue), Queue(f"{queue}-empty")]
    settings.METRICS_TOKEN = TOKEN
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        broker.rpush(queue, "a", "b")
        broker.rpush(f"{queue}\x06\x169", "c")  # kombu's list of priority 9
        families = _families(_scrape(client))
    finally:
        broker.delete(queue, f"{queue}\x06\x169")
    depth = {sample.labels["queue"]: sample.value for sample in families["stockroom_celery_queue_depth"].samples}
    assert depth == {queue: 3, f"{queue}-empty": 0}


def test_with_redis_down_metrics_still_answers_quickly_without_queue_depth(client, settings, redis_down):
    settings.METRICS_TOKEN = TOKEN
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # a closed port
    started = time.monotonic()
    response = _scrape(client)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < settings.REDIS_TIMEOUT_SECONDS + 1
    families = _families(response)
    assert "stockroom_celery_queue_depth" not in families
    assert "stockroom_http_requests" in families


# --- Stock movements: counted after the commit ------------------------------------------------


@pytest.mark.django_db
def test_a_stock_receipt_is_counted_after_its_commit_and_a_rolled_back_one_never(
    in_a, django_capture_on_commit_callbacks
):
    product, warehouse = make_product(sku="METRIC-2"), make_warehouse()
    before = _value("stockroom_stock_movements_total", kind="receipt")

    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(product_id=product.id, warehouse_id=warehouse.id, quantity=Decimal("5"))
        assert _value("stockroom_stock_movements_total", kind="receipt") == before  # not committed yet
    assert _value("stockroom_stock_movements_total", kind="receipt") == before + 1

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            stock_receive(product_id=product.id, warehouse_id=warehouse.id, quantity=Decimal("5"))
            raise RuntimeError("rolled back")
    assert callbacks == []
    assert _value("stockroom_stock_movements_total", kind="receipt") == before + 1


# --- Several processes: PROMETHEUS_MULTIPROC_DIR -----------------------------------------------


def test_with_a_multiprocess_directory_the_exposition_merges_every_process(tmp_path, monkeypatch):
    import subprocess
    import sys

    child = (
        "from prometheus_client import Counter\n"
        "c = Counter('stockroom_stock_movements', 'x', ['kind'])\n"
        "c.labels('receipt').inc(3)\n"
    )
    for _ in range(2):  # two worker processes, each with its own file
        subprocess.run([sys.executable, "-c", child], env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}, check=True)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    from core.metrics_http import exposition

    families = {f.name: f for f in text_string_to_metric_families(exposition().decode())}
    [sample] = [s for s in families["stockroom_stock_movements"].samples if s.name.endswith("_total")]
    assert (sample.labels, sample.value) == ({"kind": "receipt"}, 6.0)
    assert "python_gc_objects_collected" not in families  # this process's own registry is not read
