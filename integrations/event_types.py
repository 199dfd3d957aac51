"""The event types a webhook endpoint may subscribe to (docs/integrations.md) and the
matching of an endpoint's filters: an exact type (``product.updated``), a prefix
(``product.*``) or everything (``*``). Pure functions, no Django."""

from __future__ import annotations

from collections.abc import Iterable

EVENT_TYPES: tuple[str, ...] = (
    "product.created",
    "product.updated",
    "product.archived",
    "product.deleted",
    "stock.changed",
    "sales_order.created",
    "sales_order.confirmed",
    "sales_order.shipped",
    "sales_order.fulfilled",
    "sales_order.cancelled",
    "sales_order.returned",
    "purchase_order.created",
    "purchase_order.ordered",
    "purchase_order.received",
    "purchase_order.cancelled",
    "member.invited",
    "member.joined",
    "member.role_changed",
    "member.removed",
    "webhook_endpoint.created",
    "webhook_endpoint.disabled",
)
# Sent by POST /api/v1/webhook-endpoints/{id}/test/ whatever the endpoint's filters.
TEST_EVENT_TYPE = "webhook.test"
PREFIXES: tuple[str, ...] = tuple(sorted({name.split(".", 1)[0] for name in EVENT_TYPES}))
WILDCARD = "*"


def is_known_filter(value: str) -> bool:
    """``*``, a known type, or a known prefix followed by ``.*``."""
    if value == WILDCARD or value in EVENT_TYPES:
        return True
    return value.endswith(".*") and value[:-2] in PREFIXES


def matches(filters: Iterable[str], event_type: str) -> bool:
    for value in filters:
        if value in (WILDCARD, event_type):
            return True
        if value.endswith(".*") and event_type.startswith(value[:-1]):
            return True
    return False
