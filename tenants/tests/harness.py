"""The cross-tenant isolation harness.

It discovers every API operation from the OpenAPI schema (so a new endpoint is
covered the day it is added), seeds tenants A and B with one row of every tenant
model (``cross_tenant_seed(tenant)`` in each app's ``tests/factories.py``), and,
acting as B's owner, checks each tenant-scoped operation:

- a list never shows an id of A's;
- a detail route reached with any of A's ids answers 400, 404 or 405, never
  2xx, 409 or 5xx, and never echoes A's id; and the same route does serve one
  of B's own objects, so a 404 is not the route being broken;
- a body whose id fields point at A's objects is refused with 400 or 404;
- nothing of A's changes (a snapshot of A's rows before and after).

Operations that need no authentication must be listed in PUBLIC_OPERATIONS.
"""

from __future__ import annotations

import importlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tenants.context import tenant_context
from tenants.models import Membership, Tenant
from tenants.rls import tenant_models
from tenants.tests.factories import client_for, client_for_key, make_api_key, make_member, make_tenant

# Routes anyone may call, on purpose. Anything else must require a tenant member.
PUBLIC_OPERATIONS = {
    ("POST", "/api/v1/signup/"),
    ("POST", "/api/v1/auth/token/"),
    ("POST", "/api/v1/auth/token/refresh/"),
    ("POST", "/api/v1/auth/logout/"),
    ("POST", "/api/v1/auth/password-reset/"),
    ("POST", "/api/v1/auth/password-reset/confirm/"),
    ("POST", "/api/v1/auth/verify-email/"),
    ("POST", "/api/v1/invitations/accept/"),
    # Shopify's webhook: signed with the connector's secret instead (integrations/tests/test_shopify_webhook.py).
    ("POST", "/api/v1/connectors/{id}/shopify/orders/"),
    # Stripe's webhook: signed with STRIPE_WEBHOOK_SECRET instead (billing/tests/test_webhook.py).
    ("POST", "/api/v1/billing/webhook/"),
}

ALLOWED_FOREIGN_DETAIL_STATUSES = {400, 404, 405}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    public: bool
    request_schema: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    components: dict[str, Any] | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def has_path_params(self) -> bool:
        return "{" in self.path

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def discover_operations(urlconf: Any = None) -> list[Operation]:
    schema = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    components = schema.get("components", {}).get("schemas", {})
    operations = []
    for path, item in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, spec in item.items():
            security = spec.get("security", [])
            public = not security or {} in security
            content = spec.get("requestBody", {}).get("content", {}).get("application/json", {})
            operations.append(Operation(method.upper(), path, public, content.get("schema"), components))
    return sorted(operations, key=str)


# --- Seeding ------------------------------------------------------------------------


@dataclass
class Seeded:
    tenant: Tenant
    owner: Membership
    objects: list[models.Model]
    api_key: str = ""  # a key of the tenant holding every scope

    @property
    def ids(self) -> set[str]:
        found = {str(self.tenant.pk), str(self.owner.pk), str(self.owner.user_id)}
        for obj in self.objects:
            found.add(str(obj.pk))
            if isinstance(obj, Membership):
                found.add(str(obj.user_id))
        return found

    def ids_of(self, model_name: str) -> list[str]:
        return [str(o.pk) for o in self.objects if type(o).__name__.lower() == model_name]


def _seeders() -> list[Any]:
    seeders = []
    for config in apps.get_app_configs():
        if not config.path.startswith(str(settings.BASE_DIR)):
            continue
        try:
            module = importlib.import_module(f"{config.name}.tests.factories")
        except ModuleNotFoundError:
            continue
        if hasattr(module, "cross_tenant_seed"):
            seeders.append(module.cross_tenant_seed)
    return seeders


def seed(slug: str) -> Seeded:
    tenant = make_tenant(name=f"Harness {slug}", slug=slug)
    owner = make_member(tenant, "owner")
    objects: list[models.Model] = []
    with tenant_context(tenant):
        for seeder in _seeders():
            objects.extend(seeder(tenant))
    key, raw = make_api_key(tenant, name=f"harness-{slug}")
    return Seeded(tenant, owner, [*objects, key], api_key=raw)


def unseeded_models(seeded: Seeded) -> list[str]:
    present = {type(o) for o in seeded.objects}
    return sorted(m._meta.label for m in tenant_models() if m not in present)


def snapshot(seeded: Seeded) -> dict[str, Any]:
    """Everything of A's that a request of B's could change."""
    state: dict[str, Any] = {}
    with tenant_context(seeded.tenant):
        for model in tenant_models():
            state[model._meta.label] = list(model.objects.order_by("pk").values())
        state["memberships"] = list(Membership.objects.filter(tenant=seeded.tenant).order_by("pk").values())
    state["tenant"] = list(Tenant.objects.filter(pk=seeded.tenant.pk).values())
    return state


# --- Bodies -------------------------------------------------------------------------


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_resolve(part, components))
        return merged
    return schema


def _id_for(name: str, seeded: Seeded) -> str:
    """An id of seeded's that suits a field name (``from_warehouse`` -> a warehouse)."""
    base = re.sub(r"^(from|to|source|target|parent)_", "", name.lower()).removesuffix("_id").replace("_", "")
    candidates = seeded.ids_of(base) or sorted(seeded.ids - {str(seeded.tenant.pk)})
    return candidates[0]


def build_body(schema: dict[str, Any] | None, components: dict[str, Any], seeded: Seeded, name: str = "") -> Any:
    """A plausible body from the request schema, with every id field pointing at seeded's objects."""
    if schema is None:
        return {}
    schema = _resolve(schema, components)
    if "enum" in schema:
        return schema["enum"][0]
    if "oneOf" in schema or "anyOf" in schema:
        return build_body((schema.get("oneOf") or schema["anyOf"])[0], components, seeded, name)
    kind = schema.get("type", "object")
    fmt = schema.get("format")
    if kind == "object":
        props = schema.get("properties", {})
        return {
            key: build_body(sub, components, seeded, key)
            for key, sub in props.items()
            if not _resolve(sub, components).get("readOnly")
        }
    if kind == "array":
        return [build_body(schema.get("items", {}), components, seeded, name)]
    if fmt == "uuid":
        return _id_for(name, seeded)
    if kind == "string":
        if fmt == "email":
            return "harness@example.com"
        if fmt == "date":
            return "2026-01-01"
        if fmt == "date-time":
            return "2026-01-01T00:00:00Z"
        if fmt == "decimal" or ("pattern" in schema and "\\d" in schema["pattern"]):
            return "1"
        return "harness"
    if kind in {"integer", "number"}:
        return 1
    if kind == "boolean":
        return True
    return None


def contains_uuid_field(schema: dict[str, Any] | None, components: dict[str, Any]) -> bool:
    if schema is None:
        return False
    schema = _resolve(schema, components)
    if schema.get("format") == "uuid" and not schema.get("readOnly"):
        return True
    subs = list(schema.get("properties", {}).values())
    if "items" in schema:
        subs.append(schema["items"])
    return any(contains_uuid_field(sub, components) for sub in subs)


# --- Checks -------------------------------------------------------------------------


def _request(client: APIClient, method: str, path: str, body: Any = None) -> Any:
    # Each request in its own savepoint, as ATOMIC_REQUESTS would roll it back on error.
    with transaction.atomic():
        return (
            getattr(client, method.lower())(path, body, format="json")
            if body is not None
            else getattr(client, method.lower())(path)
        )


def _members_only(response: Any) -> bool:
    return response.status_code == 403 and response.json().get("code") == "members_only"


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def check_operation(op: Operation, a: Seeded, b: Seeded, *, api_key: str | None = None) -> list[str]:
    """Problems found for one operation, acting as B's owner against A's data; with
    ``api_key`` (a key of B's holding every scope), acting as that key. A key is refused
    the members' routes (403 ``members_only``): there it need not serve B's own objects."""
    problems: list[str] = []
    client = client_for_key(api_key) if api_key is not None else client_for(b.owner)
    before = snapshot(a)
    components = op.components or {}

    def leaked(response: Any) -> set[str]:
        text = response.content.decode(errors="replace")
        return {i for i in a.ids if i in text} | ({"A's API key"} if a.api_key and a.api_key in text else set())

    if not op.has_path_params:
        if op.method == "GET":
            response = _request(client, "GET", op.path)
            if response.status_code >= 500:
                problems.append(f"{op}: {response.status_code} as B")
            if leaked(response):
                problems.append(f"{op}: B's list shows A's ids {sorted(leaked(response))[:3]}")
        elif contains_uuid_field(op.request_schema, components):
            body = build_body(op.request_schema, components, a)
            response = _request(client, op.method, op.path, body)
            if response.status_code not in {400, 404} and not (api_key is not None and _members_only(response)):
                problems.append(f"{op}: a body pointing at A's objects gave {response.status_code}, not 400/404")
            if leaked(response):
                problems.append(f"{op}: the answer echoes A's ids")
    else:
        served_own = False
        if op.method == "GET":
            for own in sorted(b.ids):
                response = _request(client, "GET", _fill(op.path, own))
                if response.status_code == 200 or (api_key is not None and _members_only(response)):
                    served_own = True
                    break
            if not served_own:
                problems.append(f"{op}: serves none of B's own seeded objects; seed one in cross_tenant_seed")
        body = build_body(op.request_schema, components, b) if op.request_schema else None
        for foreign in sorted(a.ids):
            response = _request(client, op.method, _fill(op.path, foreign), body)
            if response.status_code not in ALLOWED_FOREIGN_DETAIL_STATUSES and not (
                api_key is not None and _members_only(response)
            ):
                problems.append(f"{op}: A's id {foreign} gave {response.status_code} to B")
                break
            if leaked(response):
                problems.append(f"{op}: the answer to A's id echoes A's data")
                break
    if snapshot(a) != before:
        problems.append(f"{op}: B's request changed A's data")
    return problems


def seed_pair() -> tuple[Seeded, Seeded]:
    suffix = uuid.uuid4().hex[:6]
    return seed(f"harness-a-{suffix}"), seed(f"harness-b-{suffix}")
