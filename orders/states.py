"""The state machines: one explicit transition table per order type.

Sales:    draft -> confirmed -> partially_fulfilled -> fulfilled
          draft | confirmed | partially_fulfilled -> cancelled
Purchase: draft -> ordered -> partially_received -> received
          draft | ordered -> cancelled

Some actions also need a fact the status alone does not tell: a customer return needs
shipped goods (a cancelled order may have shipped some, or none).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from core.errors import DomainError
from orders import errors
from orders.models import PurchaseStatus, SalesStatus

S, P = SalesStatus, PurchaseStatus

# Facts about an order that some actions need.
SHIPPED = "shipped"  # a sales order shipped something
RECEIVED = "received"  # a purchase order received something

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
    # Returns do not change the status; they need shipped goods (SALES.requires).
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


@dataclass(frozen=True)
class Machine:
    transitions: dict[str, dict[str, frozenset[str]]]
    # action -> the fact it needs besides an allowed status
    requires: dict[str, str] = field(default_factory=dict)


SALES = Machine(SALES_TRANSITIONS, {"return": SHIPPED})
PURCHASE = Machine(PURCHASE_TRANSITIONS, {"return": RECEIVED})


class InvalidTransition(DomainError):
    status_code = 409
    code = errors.INVALID_TRANSITION


def _no_facts() -> Collection[str]:
    return ()


def allowed_actions(machine: Machine, status: str, facts: Collection[str]) -> list[str]:
    """The actions (besides edit and delete) that may run from ``status`` given ``facts``."""
    return sorted(
        action
        for action, moves in machine.transitions.items()
        if status in moves
        and action not in {"edit", "delete"}
        and (action not in machine.requires or machine.requires[action] in facts)
    )


def check_transition(
    machine: Machine,
    action: str,
    status: str,
    target: str | None = None,
    *,
    facts: Callable[[], Collection[str]] = _no_facts,
) -> None:
    """Raises InvalidTransition (409, naming the current state and the actions allowed
    from it) unless ``action`` may run from ``status``. ``facts`` is asked only when the
    action needs one or the error lists the allowed actions."""
    allowed = machine.transitions[action]
    ok = status in allowed and (target is None or target in allowed[status])
    if ok and action in machine.requires:
        ok = machine.requires[action] in facts()
    if not ok:
        message = f"Cannot {action} an order that is {status.replace('_', ' ')}"
        if status in allowed and action in machine.requires:
            message += f": nothing was {machine.requires[action]}"
        raise InvalidTransition(
            f"{message}.",
            details={"status": status, "action": action, "allowed_actions": allowed_actions(machine, status, facts())},
        )
