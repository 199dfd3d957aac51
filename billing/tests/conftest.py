from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from billing.tests.fake_stripe import FakeStripe
from billing.tests.helpers import WEBHOOK_SECRET


@pytest.fixture
def fake_stripe(settings: pytest.FixtureRequest) -> Iterator[FakeStripe]:
    """Stripe replaced at the network boundary: billing's client talks HTTP to this server."""
    fake = FakeStripe().start()
    settings.STRIPE_SECRET_KEY = "sk_test_fake"  # type: ignore[attr-defined]
    settings.STRIPE_API_BASE = fake.url  # type: ignore[attr-defined]
    settings.STRIPE_MAX_NETWORK_RETRIES = 0  # type: ignore[attr-defined]
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET  # type: ignore[attr-defined]
    settings.STRIPE_PRICE_STARTER = "price_starter"  # type: ignore[attr-defined]
    settings.STRIPE_PRICE_PRO = "price_pro"  # type: ignore[attr-defined]
    settings.STRIPE_PRICE_ENTERPRISE = "price_enterprise"  # type: ignore[attr-defined]
    yield fake
    fake.stop()


@pytest.fixture
def tenant_a(db: None) -> Any:
    """Tenant A as a sign-up leaves it: on the free plan, never subscribed (elsewhere the
    tests' workspaces are on enterprise, tenants/tests/factories.py)."""
    from tenants.tests.factories import make_tenant

    return make_tenant(name="Alpha Ltd", slug="alpha", plan_code="free")
