"""Building blocks for tenant-scoped API views."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils.decorators import method_decorator
from rest_framework import viewsets
from rest_framework.permissions import SAFE_METHODS

from tenants.models import Role
from tenants.permissions import request_api_key, request_membership


def is_schema_generation(view: Any) -> bool:
    """drf-spectacular builds views with no request and no tenant."""
    return bool(getattr(view, "swagger_fake_view", False))


class ScopedQuerysetMixin:
    # ``get_queryset`` from a selector; an empty unscoped queryset while the schema is
    # generated. (A comment, not a docstring: drf-spectacular would publish it.)

    model: type[Model]

    def scoped_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        if is_schema_generation(self):
            return self.model.unscoped.none()  # type: ignore[attr-defined]
        return self.scoped_queryset()


UUID_LOOKUP = "[0-9a-fA-F-]{36}"


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class TenantViewSet(ScopedQuerysetMixin, viewsets.GenericViewSet[Any]):
    """The base of every tenant resource's viewset: a scoped queryset from a selector,
    uuid lookups, and writes for managers and up (``tenants.permissions``).

    A write runs in one transaction, as ``ATOMIC_REQUESTS`` would run it; a read runs
    without one: each statement is its own transaction, sent with ``app.tenant_id`` in one
    round trip (``tenants.dbbackend``), where BEGIN, the statement and COMMIT took three.
    Under READ COMMITTED every statement reads its own snapshot either way."""

    lookup_value_regex = UUID_LOOKUP
    write_role = Role.MANAGER
    in_request_transaction = False  # the exception handler rolls back a failed write

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method in SAFE_METHODS and not transaction.get_connection().in_atomic_block:
            return super().dispatch(request, *args, **kwargs)
        # A write; or a read inside a caller's transaction (a test's), where a failed
        # statement must roll back to this request's savepoint, not poison the caller's.
        with transaction.atomic():
            self.in_request_transaction = True
            return super().dispatch(request, *args, **kwargs)

    def compiled_query_key(self) -> tuple[Any, ...] | None:
        """Whose request this is, for the compiled SQL of the read fast path
        (``core.api.compiled``): the tenant, the user and the role."""
        membership = request_membership(self.request)
        if membership is None:
            key = request_api_key(self.request)  # what a key sees does not depend on a role
            return (key.tenant_id, "api_key", key.pk) if key is not None else None
        return (membership.tenant_id, membership.user_id, membership.role)
