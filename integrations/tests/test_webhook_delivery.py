"""Delivery of webhooks to a real receiver on 127.0.0.1 that verifies the signatures with
its own code: events reach the endpoints that want them once, signed; failures are
retried with the same webhook-id; 410 and long failure disable the endpoint.

The relay runs here by hand (tenants.events.relay in the tenant's context) with real
commits; Celery is eager in the tests, so a send task queued on commit runs at once. A
retry queued with a countdown cannot wait in eager mode: the test runs the task (or the
sweep) itself when the message is due."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from integrations.models import MessageStatus, WebhookDelivery, WebhookEndpoint, WebhookMessage
from integrations.services import delivery
from integrations.services import endpoints as services
from integrations.tasks import send_webhook_message, webhook_sweep
from integrations.tests.receiver import Answer
from inventory.services import catalog
from inventory.tests.factories import make_product
from tenants import events
from tenants.context import tenant_context
from tenants.models import DomainEvent
from tenants.tests.factories import client_for, make_member, make_tenant
from tenants.tests.threads import in_threads

RELAY = ["webhooks"]


@pytest.fixture
def fast(settings):
    """Short retries and timeout, set as settings (no mocking)."""
    settings.WEBHOOK_RETRY_SCHEDULE_SECONDS = [0.2, 0.2, 0.2]
    settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
    settings.DISPATCH_GRACE_SECONDS = 0
    return settings


@pytest.fixture
def tenant(committed):
    return make_tenant(slug=f"wh-{time.monotonic_ns()}")


def _endpoint(tenant, receiver, events_=("*",)):
    with tenant_context(tenant):
        endpoint, secret = services.webhook_endpoint_create(url=receiver.url, events=list(events_))
    receiver.secrets = [secret]
    return endpoint


def _relay(tenant):
    with tenant_context(tenant):
        return events.relay(only=RELAY)


def _messages(tenant, **filters):
    with tenant_context(tenant):
        return list(WebhookMessage.objects.filter(**filters).order_by("created_at"))


def _run_due(tenant, message):
    """The next attempt, once due (what the countdown task does in production)."""
    time.sleep(0.3)
    return send_webhook_message(tenant_id=str(tenant.id), message_id=str(message.id))


def test_an_event_arrives_signed_and_verifies(tenant, receiver, fast):
    endpoint = _endpoint(tenant, receiver, ["product.*"])
    with tenant_context(tenant):
        product = make_product(sku="WH-1")
    assert _relay(tenant)["webhooks"] >= 1
    [got] = [r for r in receiver.received if json.loads(r.body)["type"] == "product.created"]
    assert got.verified_by == receiver.secrets and got.answered == 200
    [message] = _messages(tenant, event_type="product.created")
    assert got.headers["webhook-id"] == f"msg_{message.id.hex}"
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 30
    assert got.headers["content-type"] == "application/json"
    assert got.path == "/hooks/stockroom?source=test"
    body = json.loads(got.body)
    assert set(body) == {"type", "timestamp", "data"}
    assert body["data"]["subject_type"] == "product" and body["data"]["subject_id"] == str(product.id)
    assert body["data"]["sku"] == "WH-1"
    assert message.status == MessageStatus.SUCCEEDED and message.attempts == 1
    with tenant_context(tenant):
        [attempt] = WebhookDelivery.objects.filter(message=message)
        assert endpoint.pk == attempt.endpoint_id
    assert (attempt.attempt, attempt.status_code, attempt.succeeded, attempt.error) == (1, 200, True, "")
    assert attempt.response_excerpt == '{"ok": true}'


def test_only_the_endpoints_whose_filters_match_get_an_event(tenant, receiver, fast):
    products = _endpoint(tenant, receiver, ["product.created"])
    orders = _endpoint(tenant, receiver, ["sales_order.*"])
    with tenant_context(tenant):
        product = make_product(sku="WH-F")
        catalog.product_update(product=product, name="Renamed")
    _relay(tenant)
    with tenant_context(tenant):
        assert list(WebhookMessage.objects.filter(endpoint=products).values_list("event_type", flat=True)) == [
            "product.created"
        ]
        assert not WebhookMessage.objects.filter(endpoint=orders).exists()


def test_events_from_before_an_endpoint_existed_are_not_sent(tenant, receiver, fast):
    with tenant_context(tenant):
        make_product(sku="WH-OLD")
    _endpoint(tenant, receiver, ["product.*"])
    _relay(tenant)
    assert _messages(tenant, event_type="product.created") == []


def test_a_500_is_retried_with_the_same_webhook_id_then_succeeds(tenant, receiver, fast):
    _endpoint(tenant, receiver, ["product.created"])
    receiver.answer(Answer(status=500, body=b"database down"))
    with tenant_context(tenant):
        make_product(sku="WH-500")
    _relay(tenant)
    [message] = _messages(tenant)
    assert message.status == MessageStatus.PENDING and message.attempts == 1
    assert message.next_attempt_at > timezone.now() - timedelta(seconds=1)
    assert _run_due(tenant, message) == "succeeded"
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == f"msg_{message.id.hex}"
    assert first.body == second.body
    with tenant_context(tenant):
        attempts = list(WebhookDelivery.objects.filter(message=message).order_by("attempt"))
        endpoint = WebhookEndpoint.objects.get()
    assert [(a.attempt, a.status_code, a.error) for a in attempts] == [(1, 500, "HTTP 500"), (2, 200, "")]
    assert attempts[0].response_excerpt == "database down"
    assert endpoint.failing_since is None  # the success ended the failure streak


def test_a_message_not_yet_due_is_not_sent_early(tenant, receiver, fast):
    fast.WEBHOOK_RETRY_SCHEDULE_SECONDS = [60]
    _endpoint(tenant, receiver, ["product.created"])
    receiver.answer(Answer(status=503))
    with tenant_context(tenant):
        make_product(sku="WH-EARLY")
    _relay(tenant)
    [message] = _messages(tenant)
    assert send_webhook_message(tenant_id=str(tenant.id), message_id=str(message.id)) == "skipped"
    assert len(receiver.received) == 1


def test_retry_after_is_honoured(tenant, receiver, fast):
    _endpoint(tenant, receiver, ["product.created"])
    receiver.answer(Answer(status=429, headers={"Retry-After": "120"}))
    with tenant_context(tenant):
        make_product(sku="WH-RA")
    _relay(tenant)
    [message] = _messages(tenant)
    wait = (message.next_attempt_at - timezone.now()).total_seconds()
    assert 100 < wait <= 120


def test_retry_after_as_an_http_date_is_capped(settings):
    settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS = 600
    now = timezone.now()
    assert delivery.retry_after_seconds("Wed, 21 Oct 2099 07:28:00 GMT", now=now) == 600
    assert delivery.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0
    assert delivery.retry_after_seconds("soon", now=now) is None


def test_after_the_last_retry_the_message_fails(tenant, receiver, fast):
    fast.WEBHOOK_RETRY_SCHEDULE_SECONDS = [0.2]
    _endpoint(tenant, receiver, ["product.created"])
    receiver.answer(Answer(status=500), Answer(status=502))
    with tenant_context(tenant):
        make_product(sku="WH-GIVEUP")
    _relay(tenant)
    [message] = _messages(tenant)
    assert _run_due(tenant, message) == "failed"
    [message] = _messages(tenant)
    assert message.status == MessageStatus.FAILED and message.attempts == 2


def test_a_410_disables_the_endpoint_at_once_and_emails_the_admins(tenant, receiver, fast):
    owner = make_member(tenant, "owner")
    admin = make_member(tenant, "admin")
    make_member(tenant, "manager")
    endpoint = _endpoint(tenant, receiver, ["product.created"])
    receiver.answer(Answer(status=410))
    with tenant_context(tenant):
        make_product(sku="WH-410")
    _relay(tenant)
    [message] = _messages(tenant)
    assert message.status == MessageStatus.FAILED
    with tenant_context(tenant):
        endpoint.refresh_from_db()
        disabled = DomainEvent.objects.get(type="webhook_endpoint.disabled")
    assert endpoint.is_active is False and endpoint.disabled_reason == "gone"
    assert disabled.data == {"url": receiver.url, "reason": "gone"}
    [email] = mail.outbox
    assert sorted(email.to) == sorted([owner.user.email, admin.user.email])
    assert receiver.url in email.body and "410" in email.body
    # Nothing more is sent to it.
    with tenant_context(tenant):
        make_product(sku="WH-410-AFTER")
    _relay(tenant)
    assert len(receiver.received) == 1


def test_failing_for_five_days_disables_the_endpoint(tenant, receiver, fast):
    make_member(tenant, "owner")
    endpoint = _endpoint(tenant, receiver, ["product.created"])
    with tenant_context(tenant):
        five_days_ago = timezone.now() - timedelta(days=5, minutes=1)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=five_days_ago)
    receiver.answer(Answer(status=500))
    with tenant_context(tenant):
        make_product(sku="WH-5D")
    _relay(tenant)
    with tenant_context(tenant):
        endpoint.refresh_from_db()
        assert DomainEvent.objects.filter(type="webhook_endpoint.disabled", data__reason="failing").exists()
    assert endpoint.is_active is False and endpoint.disabled_reason == "failing"
    assert len(mail.outbox) == 1


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(tenant, receiver, fast):
    fast.WEBHOOK_TIMEOUT_SECONDS = 0.5
    _endpoint(tenant, receiver, ["product.created"])
    receiver.answer(Answer(delay=2.0))
    with tenant_context(tenant):
        make_product(sku="WH-SLOW")
    started = time.monotonic()
    _relay(tenant)
    assert time.monotonic() - started < 2.0
    [message] = _messages(tenant)
    with tenant_context(tenant):
        [attempt] = WebhookDelivery.objects.filter(message=message)
    assert attempt.status_code is None and attempt.error.startswith("timeout")
    assert message.status == MessageStatus.PENDING  # to be retried


def test_a_redirect_is_a_failed_attempt_not_followed(tenant, receiver, fast):
    _endpoint(tenant, receiver, ["product.created"])
    receiver.answer(Answer(status=302, headers={"Location": "http://169.254.169.254/"}))
    with tenant_context(tenant):
        make_product(sku="WH-302")
    _relay(tenant)
    [message] = _messages(tenant)
    with tenant_context(tenant):
        [attempt] = WebhookDelivery.objects.filter(message=message)
    assert attempt.status_code == 302 and "redirects are not followed" in attempt.error
    assert len(receiver.received) == 1


def test_rotation_sends_both_signatures_and_either_secret_verifies(tenant, receiver, fast):
    endpoint = _endpoint(tenant, receiver, ["product.created"])
    old = receiver.secrets[0]
    with tenant_context(tenant):
        _, new = services.webhook_endpoint_rotate_secret(endpoint_id=endpoint.pk)
        make_product(sku="WH-ROT")
    receiver.secrets = [old, new]
    _relay(tenant)
    [got] = receiver.received
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert got.verified_by == [old, new]  # a receiver with either secret accepts it


def test_after_the_overlap_only_the_new_secret_signs(tenant, receiver, fast):
    endpoint = _endpoint(tenant, receiver, ["product.created"])
    old = receiver.secrets[0]
    with tenant_context(tenant):
        _, new = services.webhook_endpoint_rotate_secret(endpoint_id=endpoint.pk)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
        make_product(sku="WH-ROT2")
    receiver.secrets = [old, new]
    _relay(tenant)
    [got] = receiver.received
    assert got.verified_by == [new] and len(got.headers["webhook-signature"].split(" ")) == 1


def test_a_receiver_with_a_wrong_secret_refuses_the_message(tenant, receiver, fast):
    _endpoint(tenant, receiver, ["product.created"])
    receiver.secrets = [services.generate_secret()]
    with tenant_context(tenant):
        make_product(sku="WH-WRONG")
    _relay(tenant)
    [got] = receiver.received
    assert got.verified_by == [] and got.answered == 401


def test_redeliver_sends_the_same_webhook_id_and_body_again(tenant, receiver, fast):
    _endpoint(tenant, receiver, ["product.created"])
    owner = make_member(tenant, "owner")
    with tenant_context(tenant):
        make_product(sku="WH-RE")
    _relay(tenant)
    [message] = _messages(tenant)
    with tenant_context(tenant):
        [attempt] = WebhookDelivery.objects.filter(message=message)
    response = client_for(owner).post(f"/api/v1/webhook-deliveries/{attempt.id}/redeliver/")
    assert response.status_code == 202, response.content
    assert response.json()["webhook_id"] == f"msg_{message.id.hex}"
    first, again = receiver.received  # the request committed: its send task ran (eager)
    assert first.headers["webhook-id"] == again.headers["webhook-id"] and first.body == again.body
    assert again.verified_by == receiver.secrets


def test_the_delivery_log_lists_attempts_newest_first(tenant, receiver, fast):
    endpoint = _endpoint(tenant, receiver, ["product.created"])
    owner = make_member(tenant, "owner")
    receiver.answer(Answer(status=500, body=b"x" * 5000))
    with tenant_context(tenant):
        make_product(sku="WH-LOG")
    _relay(tenant)
    [message] = _messages(tenant)
    _run_due(tenant, message)
    page = client_for(owner).get(f"/api/v1/webhook-endpoints/{endpoint.id}/deliveries/", {"page_size": 1}).json()
    [newest] = page["results"]
    assert newest["attempt"] == 2 and newest["status_code"] == 200 and newest["event_type"] == "product.created"
    assert newest["webhook_id"] == f"msg_{message.id.hex}" and newest["duration_ms"] >= 0
    older = client_for(owner).get(page["next"]).json()["results"]
    assert older[0]["attempt"] == 1 and older[0]["error"] == "HTTP 500"
    assert len(older[0]["response_excerpt"].encode()) == 1024


def test_recover_requeues_the_failed_messages_since_a_time(tenant, receiver, fast):
    fast.WEBHOOK_RETRY_SCHEDULE_SECONDS = []
    endpoint = _endpoint(tenant, receiver, ["product.created"])
    owner = make_member(tenant, "owner")
    receiver.answer(Answer(status=500), Answer(status=500))
    with tenant_context(tenant):
        make_product(sku="WH-REC-1")
        make_product(sku="WH-REC-2")
    _relay(tenant)
    assert {m.status for m in _messages(tenant)} == {MessageStatus.FAILED}
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    response = client_for(owner).post(
        f"/api/v1/webhook-endpoints/{endpoint.id}/recover/", {"since": since}, format="json"
    )
    assert response.status_code == 202 and response.json() == {"queued": 2}
    assert {m.status for m in _messages(tenant)} == {MessageStatus.SUCCEEDED}
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 4 and sorted(ids[:2]) == sorted(ids[2:])


def test_the_test_action_sends_a_webhook_test_event(tenant, receiver, fast):
    endpoint = _endpoint(tenant, receiver, ["sales_order.created"])
    owner = make_member(tenant, "owner")
    response = client_for(owner).post(f"/api/v1/webhook-endpoints/{endpoint.id}/test/")
    assert response.status_code == 202
    [got] = receiver.received
    body = json.loads(got.body)
    assert body["type"] == "webhook.test" and body["data"]["subject_id"] == str(endpoint.id)
    assert got.verified_by == receiver.secrets


def test_relaying_twice_delivers_each_event_once_per_endpoint(tenant, receiver, fast):
    _endpoint(tenant, receiver, ["product.created"])
    _endpoint(tenant, receiver, ["product.*"])
    receiver.secrets = []  # two endpoints, two secrets: this test counts, it does not verify
    with tenant_context(tenant):
        make_product(sku="WH-ONCE-1")
        make_product(sku="WH-ONCE-2")
    _relay(tenant)
    _relay(tenant)
    assert len(_messages(tenant, event_type="product.created")) == 4
    assert len(receiver.received) == 4


def test_concurrent_relays_deliver_each_event_once_per_endpoint(tenant, receiver, fast):
    _endpoint(tenant, receiver, ["product.created"])
    with tenant_context(tenant):
        for n in range(5):
            make_product(sku=f"WH-CONC-{n}")
    in_threads(*[lambda: _relay(tenant) for _ in range(4)])
    messages = _messages(tenant, event_type="product.created")
    assert len(messages) == 5
    assert sorted(r.headers["webhook-id"] for r in receiver.received) == sorted(m.webhook_id for m in messages)


def test_the_sweep_sends_a_due_message_whose_task_was_lost(tenant, receiver, fast):
    _endpoint(tenant, receiver, ["product.created"])
    receiver.answer(Answer(status=500))
    with tenant_context(tenant):
        make_product(sku="WH-SWEEP")
    _relay(tenant)  # the retry's countdown task: not run in eager mode, as if lost
    time.sleep(0.3)
    assert webhook_sweep() == 1
    [message] = _messages(tenant)
    assert message.status == MessageStatus.SUCCEEDED and len(receiver.received) == 2
    assert webhook_sweep() == 0


def test_a_dead_endpoint_does_not_hold_up_another(tenant, receiver, fast):
    from integrations.tests.receiver import Receiver

    fast.WEBHOOK_TIMEOUT_SECONDS = 0.5
    slow = Receiver().start()
    try:
        slow.answer(Answer(delay=2.0))
        _endpoint(tenant, slow, ["product.created"])
        _endpoint(tenant, receiver, ["product.created"])
        receiver.secrets = []
        with tenant_context(tenant):
            make_product(sku="WH-DEAD")
        _relay(tenant)
    finally:
        slow.stop()
    assert len(receiver.received) == 1
    with tenant_context(tenant):
        statuses = sorted(WebhookMessage.objects.values_list("status", flat=True))
    assert statuses == [MessageStatus.PENDING, MessageStatus.SUCCEEDED]


def test_an_address_refused_at_delivery_is_a_failed_attempt(tenant, receiver, fast):
    _endpoint(tenant, receiver, ["product.created"])  # allowed at creation (test settings)
    fast.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    with tenant_context(tenant):
        make_product(sku="WH-SSRF")
    _relay(tenant)
    assert receiver.received == []
    [message] = _messages(tenant)
    with tenant_context(tenant):
        [attempt] = WebhookDelivery.objects.filter(message=message)
    assert attempt.status_code is None and attempt.error.startswith("refused (loopback)")
    assert message.status == MessageStatus.PENDING  # retried: the DNS answer may change


def test_https_verifies_the_receivers_certificate(tenant, fast, tmp_path):
    """A self-signed certificate is not trusted: the TLS handshake fails, nothing is sent."""
    import ssl
    import subprocess

    from integrations.tests.receiver import Receiver

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    tls = Receiver(tls=context).start()
    try:
        _endpoint(tenant, tls, ["product.created"])
        with tenant_context(tenant):
            make_product(sku="WH-TLS")
        _relay(tenant)
    finally:
        tls.stop()
    assert tls.received == []
    [message] = _messages(tenant)
    with tenant_context(tenant):
        [attempt] = WebhookDelivery.objects.filter(message=message)
    assert attempt.status_code is None and "SSL" in attempt.error


def test_the_delivery_log_runs_a_constant_number_of_queries(tenant, receiver, fast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    endpoint = _endpoint(tenant, receiver, ["product.created"])
    owner = make_member(tenant, "owner")
    client = client_for(owner)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/v1/webhook-endpoints/{endpoint.id}/deliveries/").status_code == 200
        return len(queries)

    with tenant_context(tenant):
        make_product(sku="WH-Q-1")
    _relay(tenant)
    count()  # warms the membership cache
    one = count()
    with tenant_context(tenant):
        for n in range(4):
            make_product(sku=f"WH-Q-{n + 2}")
    _relay(tenant)
    assert count() == one


def test_the_receiver_in_the_docs_verifies_a_real_delivery(tenant, receiver, fast):
    """The Python receiver of docs/integrations.md: its ``verified`` accepts what we send,
    and refuses a changed body."""
    import re
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"
    found = re.search(r"### A receiver in Python.*?```python\n(.*?)```", docs.read_text(), re.S)
    assert found is not None, "the receiver example is in docs/integrations.md"
    code = found.group(1)
    namespace: dict = {}
    exec(code.split("class Receiver")[0], namespace)  # noqa: S102 - our own documentation
    _endpoint(tenant, receiver, ["product.created"])
    namespace["SECRETS"][:] = receiver.secrets
    with tenant_context(tenant):
        make_product(sku="WH-DOCS")
    _relay(tenant)
    [got] = receiver.received
    assert namespace["verified"](got.headers, got.body) is True
    assert namespace["verified"](got.headers, got.body.replace(b"WH-DOCS", b"WH-EVIL")) is False


def test_deleting_an_endpoint_during_an_attempt_records_nothing(tenant, receiver, fast):
    import threading

    endpoint = _endpoint(tenant, receiver, ["product.created"])
    receiver.answer(Answer(status=500), Answer(delay=0.6))
    with tenant_context(tenant):
        make_product(sku="WH-DEL")
    _relay(tenant)
    [message] = _messages(tenant)

    def delete_while_sending():
        from django.db import connection

        try:
            time.sleep(0.5)  # _run_due sleeps 0.3 s, then the receiver takes 0.6 s to answer
            with tenant_context(tenant):
                services.webhook_endpoint_delete(endpoint_id=endpoint.pk)
        finally:
            connection.close()

    deleter = threading.Thread(target=delete_while_sending)
    deleter.start()
    assert _run_due(tenant, message) == "skipped"
    deleter.join(10)
    assert len(receiver.received) == 2
    with tenant_context(tenant):
        assert not WebhookEndpoint.objects.exists()
        assert not WebhookMessage.objects.exists() and not WebhookDelivery.objects.exists()
