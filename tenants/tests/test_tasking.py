"""Celery: the tenant travels with each task and never leaks to the next one."""

import json
import threading
import time

import pytest
from celery import shared_task
from celery.contrib.testing.worker import start_worker
from django.db import connection

from config.celery import app
from core.errors import TenantRequired
from tenants.context import get_current_tenant, get_current_tenant_or_none, tenant_context
from tenants.tasking import TenantTask
from tenants.tests.factories import make_tenant
from tenants.tests.isolation_app.models import Widget

observations: list[dict] = []
_lock = threading.Lock()


def _raw_widget_names():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM isolation_app_widget ORDER BY name")
        return [row[0] for row in cursor.fetchall()]


@shared_task(base=TenantTask, name="tests.observe_widgets")
def observe_widgets(*, tenant_id: str, label: str) -> None:
    with _lock:
        observations.append(
            {
                "label": label,
                "tenant": str(get_current_tenant().id),
                "orm": sorted(Widget.objects.values_list("name", flat=True)),
                "raw": _raw_widget_names(),
            }
        )


@shared_task(name="tests.observe_without_tenant")
def observe_without_tenant(*, label: str) -> None:
    with _lock:
        observations.append({"label": label, "tenant": get_current_tenant_or_none(), "raw": _raw_widget_names()})


def test_tasks_of_two_tenants_back_to_back_in_one_worker_see_only_their_own(committed):
    alpha, beta = make_tenant(slug="task-alpha"), make_tenant(slug="task-beta")
    with tenant_context(alpha):
        Widget.objects.create(name="alpha-widget")
    with tenant_context(beta):
        Widget.objects.create(name="beta-widget")
    observations.clear()
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10):
            observe_widgets.delay(tenant_id=str(alpha.id), label="a1")
            observe_widgets.delay(tenant_id=str(beta.id), label="b1")
            observe_without_tenant.delay(label="none")
            with tenant_context(alpha):  # tenant_id taken from the caller's context
                observe_widgets.delay(label="a2")
            deadline = time.monotonic() + 30
            while len(observations) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        app.conf.task_always_eager = True

    seen = {o["label"]: o for o in observations}
    assert set(seen) == {"a1", "b1", "none", "a2"}
    assert seen["a1"]["tenant"] == seen["a2"]["tenant"] == str(alpha.id)
    assert seen["a1"]["orm"] == seen["a1"]["raw"] == ["alpha-widget"]
    assert seen["b1"]["orm"] == seen["b1"]["raw"] == ["beta-widget"]
    assert seen["a2"]["orm"] == ["alpha-widget"]
    assert seen["none"] == {"label": "none", "tenant": None, "raw": []}


def test_tenant_task_refuses_to_be_sent_without_a_tenant():
    with pytest.raises(TenantRequired):
        observe_widgets.delay(label="nobody")


@pytest.mark.django_db
def test_eager_task_restores_the_callers_tenant(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        Widget.objects.create(name="alpha-widget")
    with tenant_context(tenant_b):
        Widget.objects.create(name="beta-widget")
    observations.clear()
    with tenant_context(tenant_a):
        observe_widgets.delay(tenant_id=str(tenant_b.id), label="b-inside-a")
        assert get_current_tenant_or_none() == tenant_a
        assert list(Widget.objects.values_list("name", flat=True)) == ["alpha-widget"]
        assert _raw_widget_names() == ["alpha-widget"]
    assert observations[0]["orm"] == ["beta-widget"]


def test_tasks_queued_by_name_resolve_in_a_process_that_never_imported_them():
    """A web process does not import the tasks modules; services queue tasks by name
    (POST /invitations/ was a 500 there while the test suite, which imports them, passed)."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    code = (
        "import django; django.setup()\n"
        "import sys\n"
        "assert 'tenants.tasks' not in sys.modules and 'inventory.tasks' not in sys.modules\n"
        "from tenants.tasking import task_by_name\n"
        "print(task_by_name('tenants.tasks.send_invitation_email').name)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "tenants.tasks.send_invitation_email"


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")  # send_task always publishes
def test_the_relay_has_a_queue_of_its_own_and_every_task_lands_in_one_queue(settings):
    """The relay goes to "events", everything else to "celery", each message once, with the
    queues declared as a worker declares them (read back from the real broker)."""
    import redis
    from celery import current_app

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("celery", "events")
    with current_app.connection_for_write() as connection:  # the bindings a worker declares at start
        for queue in current_app.amqp.queues.values():
            queue(connection.default_channel).declare()
    try:
        current_app.send_task("tenants.tasks.relay_events", kwargs={"tenant_id": "t"})
        current_app.send_task("integrations.tasks.send_webhook_message", kwargs={"tenant_id": "t", "message_id": "m"})
        current_app.send_task("inventory.tasks.low_stock_scan")
        queued = {
            queue: [json.loads(raw)["headers"]["task"] for raw in broker.lrange(queue, 0, -1)]
            for queue in ("celery", "events")
        }
    finally:
        broker.delete("celery", "events")
    assert queued == {
        "celery": ["inventory.tasks.low_stock_scan", "integrations.tasks.send_webhook_message"],
        "events": ["tenants.tasks.relay_events"],
    }
