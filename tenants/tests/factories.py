"""Test data for the accounts module. Plain functions over the services and models."""

from __future__ import annotations

import itertools
from typing import Any

from rest_framework.test import APIClient

from tenants.context import tenant_context
from tenants.models import Membership, Role, Tenant, User
from tenants.tokens import tokens_for_membership

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def make_tenant(
    *, name: str | None = None, slug: str | None = None, plan_code: str = "enterprise", **extra: Any
) -> Tenant:
    """A workspace on the enterprise plan unless told otherwise (no limit, every feature), so
    a test about something else is not stopped by a plan limit; the plan tests pass the plan
    they are about (``plan_code="free"``)."""
    n = next(_seq)
    return Tenant.objects.create(name=name or f"Company {n}", slug=slug or f"company-{n}", plan_code=plan_code, **extra)


def make_user(*, email: str | None = None, password: str = PASSWORD, **extra: Any) -> User:
    """A user whose address is verified (as every user before email verification was); pass
    ``email_verified_at=None`` for one who signed up and has not followed the link yet."""
    from django.utils import timezone

    extra.setdefault("email_verified_at", timezone.now())
    return User.objects.create_user(email=email or f"user{next(_seq)}@example.com", password=password, **extra)


def make_member(tenant: Tenant, role: str = Role.OWNER, *, user: User | None = None) -> Membership:
    """Written in the tenant's context, as Row Level Security on memberships requires."""
    user = user or make_user()
    with tenant_context(tenant):
        return Membership.objects.create(tenant=tenant, user=user, role=role)


def client_for(membership: Membership) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for_membership(membership)['access']}")
    return client


def make_api_key(
    tenant: Tenant, scopes: list[str] | None = None, *, name: str = "integration", **extra: Any
) -> tuple[Any, str]:
    """A key of ``tenant`` (all scopes unless given) made by the service, and the key itself."""
    from tenants import api_key_format
    from tenants.services import api_key_create

    with tenant_context(tenant):
        return api_key_create(
            name=name,
            scopes=list(api_key_format.SCOPES) if scopes is None else scopes,
            expires_at=extra.pop("expires_at", None),
            user=extra.pop("user", None),
        )


def client_for_key(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def cross_tenant_seed(tenant: Tenant) -> list[Any]:
    """One row of each tenants-app model for the cross-tenant harness (runs in the tenant's context)."""
    from datetime import timedelta

    from django.apps import apps
    from django.utils import timezone

    from tenants.models import IdempotentResponse, Invitation

    clerk = make_member(tenant, Role.CLERK)
    invitation = Invitation.objects.create(
        email=f"invitee-{tenant.slug}@example.com", role=Role.VIEWER, expires_at=timezone.now() + timedelta(days=7)
    )
    key, _ = make_api_key(tenant, name=f"seed-{tenant.slug}")
    stored = IdempotentResponse.objects.create(
        key=f"seed-{tenant.slug}", route="POST /api/v1/warehouses/", fingerprint="0" * 64, status_code=201, body=b"{}"
    )
    seeded: list[Any] = [clerk, invitation, key, stored]
    if apps.is_installed("tenants.tests.isolation_app"):
        from tenants.tests.isolation_app.models import Widget, WidgetPart

        widget = Widget.objects.create(name=f"widget-{tenant.slug}")
        seeded += [widget, WidgetPart.objects.create(widget=widget, label="part")]
    return seeded
