"""Tenant B's owner, and an API key of tenant B with every scope, can never list, read,
change, delete or point at tenant A's data, on any route: the routes come from the
OpenAPI schema, so new ones are covered."""

import types

import pytest
from django.test import override_settings

from tenants.tests import leaky_urls
from tenants.tests.harness import (
    PUBLIC_OPERATIONS,
    check_operation,
    discover_operations,
    seed,
    seed_pair,
    unseeded_models,
)

OPERATIONS = discover_operations()
TENANT_OPERATIONS = [op for op in OPERATIONS if not op.public]


def test_harness_discovers_the_routes():
    assert len(TENANT_OPERATIONS) >= 10
    assert any(op.has_path_params for op in TENANT_OPERATIONS)


def test_anonymous_routes_are_exactly_the_public_allowlist():
    assert {(op.method, op.path) for op in OPERATIONS if op.public} == PUBLIC_OPERATIONS


@pytest.mark.django_db
def test_every_tenant_model_is_seeded_for_the_harness():
    assert unseeded_models(seed("seed-check")) == [], "add the model to its app's tests/factories.py::cross_tenant_seed"


@pytest.mark.django_db
@pytest.mark.parametrize("operation", TENANT_OPERATIONS, ids=str)
def test_tenant_b_cannot_reach_tenant_a(operation):
    a, b = seed_pair()
    assert check_operation(operation, a, b) == []


@pytest.mark.django_db
@pytest.mark.parametrize("operation", TENANT_OPERATIONS, ids=str)
def test_tenant_b_api_key_cannot_reach_tenant_a(operation):
    """The same walk with an API key of B's holding every scope (no membership, the
    tenant fixed by the key): B's key never reaches A's data."""
    a, b = seed_pair()
    assert check_operation(operation, a, b, api_key=b.api_key) == []


def _urlconf(patterns):
    return types.SimpleNamespace(urlpatterns=patterns)


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tenants.tests.leaky_urls")
def test_harness_catches_deliberately_unscoped_views():
    a, b = seed_pair()
    operations = discover_operations(urlconf=_urlconf(leaky_urls.leaky_urlpatterns))

    problems = {str(op): check_operation(op, a, b) for op in operations}

    assert set(problems) == {
        "GET /api/v1/leaky/users/",
        "GET /api/v1/leaky/users/{id}/",
        "DELETE /api/v1/leaky/users/{id}/",
    }
    assert all(problems.values()), problems
    assert any("shows A's ids" in p for p in problems["GET /api/v1/leaky/users/"])
    assert any("gave 200" in p for p in problems["GET /api/v1/leaky/users/{id}/"])
    assert any("gave 204" in p for p in problems["DELETE /api/v1/leaky/users/{id}/"])


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tenants.tests.leaky_urls")
def test_row_level_security_contains_an_unscoped_orm_query():
    a, b = seed_pair()
    (operation,) = discover_operations(urlconf=_urlconf(leaky_urls.rls_contained_urlpatterns))
    assert check_operation(operation, a, b) == []


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tenants.tests.leaky_urls")
def test_row_level_security_contains_unscoped_membership_queries():
    """Memberships are under a forced policy: a view that forgets the tenant filter
    lists, reads and deletes only the current tenant's rows (and the user's own)."""
    a, b = seed_pair()
    operations = discover_operations(urlconf=_urlconf(leaky_urls.rls_contained_member_urlpatterns))

    problems = {str(op): check_operation(op, a, b) for op in operations}

    assert set(problems) == {
        "GET /api/v1/unscoped/members/",
        "GET /api/v1/unscoped/members/{id}/",
        "DELETE /api/v1/unscoped/members/{id}/",
    }
    assert all(found == [] for found in problems.values()), problems
