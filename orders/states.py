"""The state machines: one explicit transition table per order type.

Sales:    draft -> confirmed -> partially_fulfilled -> fulfilled
          draft | confirmed | partially_fulfilled -> cancelled
Purchase: draft -> ordered -> partially_received -> received
          draft | ordered -> cancelled
"""

from __future__ import annotations

from core.errors import DomainError
from orders.models import PurchaseStatus, SalesStatus

S, P = SalesStatus, PurchaseStatus

# action -> {from status: to status}; a shipment or receipt may end in either of two states.
SALES_TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "confirm": {S.DRAFT: frozenset({S.CONFIRMED})},
    "ship": {
        S.CONFIRMED: frozenset({S.PARTIALLY_FULFILLED, S.FULFILLED}),
        S.PARTIALLY_FULFILLED: frozenset({S.PARTIALLY_FULFILLED, S.FULFILLED}),
    },
    "cancel": {
        S.DRAFT: frozenset({S.CANCELLED}),
        S.CONFIRMED: frozenset({S.CANCELLED}),
        S.PARTIALLY_FULFILLED: frozenset({S.CANCELLED}),
    },
    # Returns do not change the status; they need shipped goods.
    "return": {
        S.PARTIALLY_FULFILLED: frozenset({S.PARTIALLY_FULFILLED}),
        S.FULFILLED: frozenset({S.FULFILLED}),
        S.CANCELLED: frozenset({S.CANCELLED}),
    },
    "edit": {S.DRAFT: frozenset({S.DRAFT})},
    "delete": {S.DRAFT: frozenset({S.DRAFT})},
}

PURCHASE_TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "order": {P.DRAFT: frozenset({P.ORDERED})},
    "receive": {
        P.ORDERED: frozenset({P.PARTIALLY_RECEIVED, P.RECEIVED}),
        P.PARTIALLY_RECEIVED: frozenset({P.PARTIALLY_RECEIVED, P.RECEIVED}),
    },
    "cancel": {P.DRAFT: frozenset({P.CANCELLED}), P.ORDERED: frozenset({P.CANCELLED})},
    "return": {
        P.PARTIALLY_RECEIVED: frozenset({P.PARTIALLY_RECEIVED}),
        P.RECEIVED: frozenset({P.RECEIVED}),
    },
    "edit": {P.DRAFT: frozenset({P.DRAFT})},
    "delete": {P.DRAFT: frozenset({P.DRAFT})},
}


class InvalidTransition(DomainError):
    status_code = 409
    code = "invalid_transition"


def check_transition(
    table: dict[str, dict[str, frozenset[str]]], action: str, status: str, target: str | None = None
) -> None:
    """Raises InvalidTransition (409, naming the current state) unless ``action`` may run from ``status``."""
    allowed = table[action]
    if status not in allowed or (target is not None and target not in allowed[status]):
        possible = sorted(a for a, moves in table.items() if status in moves and a not in {"edit", "delete"})
        raise InvalidTransition(
            f"Cannot {action} an order that is {status.replace('_', ' ')}.",
            details={"status": status, "action": action, "allowed_actions": possible},
        )
