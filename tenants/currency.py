"""The workspace currency: ISO 4217 codes only, and no change once amounts exist.

Amounts are stored as bare decimals in the workspace's currency, so changing the
currency would relabel every existing price, cost and total (100 USD would become
100 EUR). The tenancy core imports no domain, so the domains that hold amounts say
whether they do: each registers a check (``register_currency_in_use_check``, in its
``AppConfig.ready``) that answers, in the current tenant's context, whether the
tenant has such amounts. ``tenants.services.tenant_update`` refuses a change while
any check answers yes (409 ``currency_in_use``).
"""

from __future__ import annotations

from collections.abc import Callable

from iso4217 import Currency

# The active codes of ISO 4217 (the maintained table shipped by the ``iso4217``
# package), less the two that name no currency: XTS (testing) and XXX (no currency).
CURRENCY_CODES: frozenset[str] = frozenset(currency.code for currency in Currency) - {"XTS", "XXX"}
CURRENCY_CHOICES: list[tuple[str, str]] = sorted(
    (currency.code, currency.currency_name) for currency in Currency if currency.code in CURRENCY_CODES
)
CURRENCY_PATTERN_MESSAGE = "three capital letters of ISO 4217, e.g. EUR, USD or GBP"

_in_use_checks: dict[str, Callable[[], bool]] = {}


def register_currency_in_use_check(what: str, check: Callable[[], bool]) -> None:
    """``check()`` runs in the tenant's context and says whether the tenant holds
    amounts in its currency; ``what`` names them in the error (``orders``, ``stock``)."""
    _in_use_checks[what] = check


def currency_in_use() -> list[str]:
    """What holds amounts in the current tenant's currency (empty when it may change)."""
    return [what for what, check in sorted(_in_use_checks.items()) if check()]
