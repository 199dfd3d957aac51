"""The Stripe events counter (core/metrics.py): received or duplicate when a delivery is
stored, then the processing's outcome, by event type (an unhandled type is ``other``)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from billing.tests.helpers import deliver, event


def _count(type_: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("stockroom_stripe_events_total", {"type": type_, "outcome": outcome}) or 0.0


@pytest.mark.django_db
def test_stripe_events_are_counted_by_type_and_outcome(api, fake_stripe, django_capture_on_commit_callbacks):
    evt = event("radar.early_fraud_warning.created", {"id": "issfr_9", "object": "radar.early_fraud_warning"})
    before = {o: _count("other", o) for o in ("received", "duplicate", "unhandled_type")}

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(api, evt).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(api, evt).status_code == 200

    assert _count("other", "received") == before["received"] + 1
    assert _count("other", "duplicate") == before["duplicate"] + 1
    assert _count("other", "unhandled_type") == before["unhandled_type"] + 1  # processed once
    assert _count("radar.early_fraud_warning.created", "received") == 0  # types outside the handlers: other
