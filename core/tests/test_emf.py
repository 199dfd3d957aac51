"""The CloudWatch EMF line (core/emf.py) and the values behind it: queue depth, outbox lag
(tenants.events.outbox_lag_seconds) and failed webhook attempts in a window
(integrations.selectors.webhook_failures_between), read for real on the ops alias."""

from __future__ import annotations

import io
import json
import subprocess
import time
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from core import emf, metrics
from core.tasks import publish_cloudwatch_metrics
from integrations.models import WebhookDelivery, WebhookMessage
from integrations.tests.factories import make_webhook_endpoint
from inventory.tests.factories import make_product
from tenants.context import tenant_context
from tenants.events import relay
from tenants.tests.factories import make_tenant

# EMF specification: the root members a directive needs, and the units CloudWatch knows.
CLOUDWATCH_UNITS = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Count", "Percent", "None", "Count/Second"}


def check_emf(document: dict) -> None:
    """Fails unless ``document`` is a valid EMF object (the specification's rules)."""
    aws = document["_aws"]
    assert isinstance(aws["Timestamp"], int) and aws["Timestamp"] > 1_600_000_000_000  # epoch milliseconds
    directives = aws["CloudWatchMetrics"]
    assert isinstance(directives, list) and directives
    for directive in directives:
        assert isinstance(directive["Namespace"], str) and 1 <= len(directive["Namespace"]) <= 255
        assert all(isinstance(group, list) and len(group) <= 30 for group in directive["Dimensions"])
        for group in directive["Dimensions"]:
            for dimension in group:
                assert isinstance(document[dimension], str)  # each dimension is a string member of the root
        assert len(directive["Metrics"]) <= 100
        for metric in directive["Metrics"]:
            assert set(metric) <= {"Name", "Unit", "StorageResolution"}
            assert metric["Unit"] in CLOUDWATCH_UNITS
            assert isinstance(document[metric["Name"]], int | float)  # each metric is a number of the root


def test_the_emf_line_follows_the_specification():
    at = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    line = emf.emf_line(
        environment="staging", values={"QueueDepth": 3, "OutboxLagSeconds": 1.5, "WebhookFailures": 2}, timestamp=at
    )
    assert "\n" not in line
    document = json.loads(line)
    check_emf(document)
    assert document["_aws"]["Timestamp"] == int(at.timestamp() * 1000)
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Stockroom" and directive["Dimensions"] == [["Environment"]]
    assert directive["Metrics"] == [
        {"Name": "QueueDepth", "Unit": "Count"},
        {"Name": "OutboxLagSeconds", "Unit": "Seconds"},
        {"Name": "WebhookFailures", "Unit": "Count"},
    ]
    assert (document["Environment"], document["QueueDepth"], document["OutboxLagSeconds"]) == ("staging", 3, 1.5)
    assert document["WebhookFailures"] == 2


def test_an_unknown_value_is_left_out_not_published_as_zero():
    document = json.loads(
        emf.emf_line(
            environment="production",
            values={"QueueDepth": None, "OutboxLagSeconds": 0.0, "WebhookFailures": 0},
            timestamp=timezone.now(),
        )
    )
    check_emf(document)
    assert "QueueDepth" not in document
    assert [m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == [
        "OutboxLagSeconds",
        "WebhookFailures",
    ]


def _beat(tmp_path, **extra: str) -> str:
    """Runs the image's beat (the container entrypoint) for a few seconds; its output."""
    from core.tests.test_container import ENTRYPOINT, _production_env, _redis_url, _role_url, _stop

    env = _production_env(DATABASE_URL=_role_url("default"), REDIS_URL=_redis_url(13), **extra)
    beat = subprocess.Popen(
        [ENTRYPOINT, "beat", "--schedule", str(tmp_path / "schedule")],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(6)
    return _stop(beat)


def test_beat_publishes_the_metrics_itself_every_interval_with_an_environment(django_db_setup, tmp_path):
    # From a thread of beat's own, not a queued task: a task would wait behind the backlog
    # QueueDepth measures (and expire) exactly when the workers should scale out.
    output = _beat(tmp_path, STOCKROOM_ENVIRONMENT="staging", CLOUDWATCH_METRICS_SECONDS="1")
    lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]
    assert len(lines) >= 3, output[-3000:]
    for document in lines:
        check_emf(document)
        assert document["Environment"] == "staging" and document["QueueDepth"] >= 0

    assert '{"_aws"' not in _beat(tmp_path, STOCKROOM_ENVIRONMENT="", CLOUDWATCH_METRICS_SECONDS="1")  # none without


def _failed_attempts(endpoint, *, at: datetime, count: int, succeeded: bool = False) -> None:
    message = WebhookMessage.objects.create(endpoint=endpoint, event_type="product.created", body="{}")
    for attempt in range(count):
        WebhookDelivery.objects.create(
            message=message, endpoint=endpoint, attempt=attempt + 1, succeeded=succeeded, created_at=at
        )


def test_the_published_line_counts_failures_since_the_previous_one_across_tenants(committed, settings, capfd):
    settings.STOCKROOM_ENVIRONMENT = "staging"
    cache.delete(emf.LAST_WINDOW_KEY)
    now = timezone.now()
    for slug in ("emf-a", "emf-b"):
        with tenant_context(make_tenant(slug=slug)):
            endpoint = make_webhook_endpoint()
            _failed_attempts(endpoint, at=now - timedelta(seconds=30), count=2)  # in this minute's window
            _failed_attempts(endpoint, at=now - timedelta(seconds=30), count=1, succeeded=True)  # not a failure
            _failed_attempts(endpoint, at=now - timedelta(minutes=10), count=3)  # before the window

    line = publish_cloudwatch_metrics.delay().get()

    assert capfd.readouterr().out == line + "\n"  # one line on the process's stdout, nothing else
    document = json.loads(line)
    check_emf(document)
    assert document["Environment"] == "staging"
    assert document["WebhookFailures"] == 4
    assert document["QueueDepth"] >= 0 and document["OutboxLagSeconds"] >= 0

    # The next publication starts where this one ended: nothing counted twice.
    again = json.loads(emf.publish(environment="staging", stream=io.StringIO()))
    assert again["WebhookFailures"] == 0


def test_webhook_failures_need_the_ops_alias(settings):
    settings.DATABASES = {alias: db for alias, db in settings.DATABASES.items() if alias != "ops"}
    now = timezone.now()
    assert metrics.window_count(metrics.WEBHOOK_FAILURES, now - timedelta(minutes=1), now) is None
    assert metrics.gauge_value(metrics.OUTBOX_LAG) is None


def test_outbox_lag_is_the_age_of_the_oldest_event_not_yet_relayed(committed):
    assert metrics.gauge_value(metrics.OUTBOX_LAG) == 0.0  # no events
    tenant = make_tenant(slug="lag-a")
    with tenant_context(tenant):
        make_product(sku="LAG-1")  # records product.created (the test settings never kick the relay)
    time.sleep(0.2)
    lag = metrics.gauge_value(metrics.OUTBOX_LAG)
    assert lag is not None and lag >= 0.2

    with tenant_context(tenant):
        relay()

    assert metrics.gauge_value(metrics.OUTBOX_LAG) == 0.0
