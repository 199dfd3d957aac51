"""A Stripe subscription's state applied to the workspace.

Every change goes to the workspace through ``tenants.services.tenant_plan_apply`` (the
subscribed plan, the status, the end of a past-due grace period), which records
``workspace.plan_changed``; the billing account keeps the rest (periods, trial end,
cancel at period end) and the per-subscription watermark.

Two ways in:
- ``subscription_event_apply``: the subscription as an event carried it. Applied only when
  the event is newer than the watermark (the ``created`` time of the last event applied to
  that subscription): an old ``updated`` delivered after ``deleted`` changes nothing. An
  event of the same second as the watermark (Stripe's times are in seconds) cannot be
  ordered: the subscription is fetched from Stripe and that is applied.
- ``subscription_sync``: the subscription as Stripe has it now (fetched). Always applied;
  it moves the watermark to now, so an event older than the fetch changes nothing after it.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing import stripe_client
from billing.models import BillingAccount
from billing.plans import plan_of_price
from billing.services.accounts import LIVE_STATUSES, PAYING_STATUSES
from tenants import events
from tenants.context import tenant_context
from tenants.entitlements import effective_plan
from tenants.models import BillingStatus, Tenant
from tenants.plans import FREE, PAID_PLAN_CODES, plan_get
from tenants.services import tenant_plan_apply
from tenants.tasking import enqueue_on_commit

logger = logging.getLogger("stockroom.billing")

EMAIL_TASK = "billing.tasks.send_billing_email"


# --- Reading Stripe's objects --------------------------------------------------------------


def timestamp(value: Any) -> datetime.datetime | None:
    if not value:
        return None
    return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)


def object_id(value: Any) -> str:
    """An id field that may be expanded into the object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _items(subscription: dict[str, Any]) -> list[dict[str, Any]]:
    items = (subscription.get("items") or {}).get("data") or []
    return [item for item in items if isinstance(item, dict)]


def _first_item(subscription: dict[str, Any]) -> dict[str, Any]:
    items = _items(subscription)
    return items[0] if items else {}


def subscription_price(subscription: dict[str, Any]) -> str:
    """The price of the subscription's plan: the first item whose price a plan is sold at
    (a metered usage price may sit beside it), else the first item's."""
    for item in _items(subscription):
        price = object_id(item.get("price"))
        if plan_of_price(price) is not None:
            return price
    return object_id(_first_item(subscription).get("price"))


def subscription_period_end(subscription: dict[str, Any]) -> datetime.datetime | None:
    # On the subscription's items since API version 2025-03-31; on the subscription before.
    return timestamp(subscription.get("current_period_end") or _first_item(subscription).get("current_period_end"))


def invoice_subscription(invoice: dict[str, Any]) -> str:
    # ``parent.subscription_details.subscription`` since API version 2025-03-31.
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    return object_id(invoice.get("subscription") or parent.get("subscription"))


def _plan_of(account: BillingAccount, subscription: dict[str, Any]) -> str:
    price = subscription_price(subscription)
    plan = plan_of_price(price)
    if plan is not None:
        return plan
    named = str((subscription.get("metadata") or {}).get("plan") or "")
    logger.error(
        "subscription %s has price %r, which no STRIPE_PRICE_<PLAN> setting names",
        subscription.get("id"),
        price,
        extra={"tenant_id": str(account.tenant_id)},
    )
    # An unknown price never grants more than the plan the account had (Checkout's
    # metadata names the plan bought then, which a later change in the portal does not update).
    before = account.plan_code or FREE
    if named in PAID_PLAN_CODES and plan_get(named).rank <= plan_get(before).rank:
        return named
    return before


# --- Applying ----------------------------------------------------------------------------


def account_locked(account_id: Any) -> BillingAccount:
    return BillingAccount.objects.select_for_update().select_related("tenant").get(pk=account_id)


def _state_apply(
    account: BillingAccount, subscription: dict[str, Any], *, reason: str, at: datetime.datetime | None = None
) -> dict[str, list[Any]]:
    """Writes the subscription's state on the (locked) account and the workspace; returns
    what changed on the account ({field: [before, after]}). ``at``: when Stripe's state was
    so (the event's ``created``, the fetch's time): a grace period starts then, not when a
    late event happens to be processed."""
    status = str(subscription.get("status") or "")
    if status not in BillingStatus.values or status == BillingStatus.NONE:
        raise ValueError(f"unknown subscription status {status!r}")
    since = at or timezone.now()
    if status == BillingStatus.PAST_DUE:
        # The grace period starts when the subscription enters past_due and stays put while it is.
        keep = account.status == BillingStatus.PAST_DUE and account.grace_ends_at is not None
        grace = account.grace_ends_at if keep else since + datetime.timedelta(days=settings.BILLING_GRACE_DAYS)
    else:
        grace = None
    tenant = account.tenant
    plan_before = effective_plan(tenant)
    plan_code = _plan_of(account, subscription)
    new: dict[str, Any] = {
        "stripe_subscription_id": str(subscription.get("id") or ""),
        "stripe_price_id": subscription_price(subscription),
        "plan_code": plan_code,
        "status": status,
        "trial_end": timestamp(subscription.get("trial_end")),
        "current_period_end": subscription_period_end(subscription),
        "cancel_at_period_end": bool(subscription.get("cancel_at_period_end")),
        "grace_ends_at": grace,
        # The trial is for a workspace's first subscription that got going (trialing or
        # paying): one that never got past incomplete does not use it up.
        "has_subscribed": account.has_subscribed or status in PAYING_STATUSES,
    }
    if grace is None:
        new["grace_ended_notified_at"] = None
    changes = {name: [getattr(account, name), value] for name, value in new.items() if getattr(account, name) != value}
    for name, value in new.items():
        setattr(account, name, value)
    account.save()
    tenant, changed = tenant_plan_apply(
        tenant_id=tenant.pk,
        plan_code=plan_code,
        billing_status=status,
        grace_ends_at=grace,
        reason=reason,
    )
    account.tenant = tenant
    plan_after = effective_plan(tenant)
    if changed and plan_after.code != plan_before.code:
        owners_email(tenant, "plan_changed", {"before": plan_before.code, "after": plan_after.code, "status": status})
    return changes


def subscription_sync(
    account: BillingAccount, subscription: dict[str, Any], *, reason: str, as_of: datetime.datetime
) -> dict[str, list[Any]]:
    """Applies the subscription as fetched from Stripe at ``as_of`` (a time taken before the
    request) to the locked account; the watermark moves up to that second, so an event
    created before the fetch changes nothing after it."""
    as_of = as_of.replace(microsecond=0)
    if account.last_event_created is not None and account.last_event_created > as_of:
        # An event newer than this fetch was applied meanwhile (the reconciliation reads
        # Stripe before it takes the lock): what was fetched is older; keep the event's state.
        return {}
    changes = _state_apply(account, subscription, reason=reason, at=as_of)
    if account.last_event_created is None or account.last_event_created < as_of:
        account.last_event_created = as_of
    account.synced_at = timezone.now()
    account.save(update_fields=["last_event_created", "synced_at", "updated_at"])
    return changes


def subscription_fetch_and_sync(account: BillingAccount, subscription_id: str, *, reason: str) -> str:
    as_of = timezone.now()
    subscription = stripe_client.subscription_retrieve(subscription_id)
    if not _belongs(account, subscription):
        return "ignored_other_subscription"
    subscription_sync(account, subscription, reason=reason, as_of=as_of)
    return "synced"


def _belongs(account: BillingAccount, subscription: dict[str, Any]) -> bool:
    """Whether this subscription is the one the account follows, or may become it: the same
    one; or any while the account's own is gone (or there is none); a live one always wins
    over a dead one. The events of an older, canceled subscription change nothing once a
    new one is followed."""
    if not account.stripe_subscription_id or subscription.get("id") == account.stripe_subscription_id:
        return True
    return status_rank(str(subscription.get("status") or "")) > status_rank(account.status) or (
        status_rank(account.status) == 0
    )


def status_rank(status: str) -> int:
    """How much a subscription in ``status`` counts when a customer has several: one that
    pays or will (trialing, active, past due) over one that exists but does not pay
    (incomplete, unpaid, paused) over an ended one."""
    if status in PAYING_STATUSES:
        return 2
    return 1 if status in LIVE_STATUSES else 0


def subscription_event_apply(
    account: BillingAccount, subscription: dict[str, Any], *, event_id: str, created: datetime.datetime, reason: str
) -> str:
    """Applies a subscription carried by an event to the locked account, under the
    per-subscription watermark; returns what it did."""
    if not _belongs(account, subscription):
        return "ignored_other_subscription"
    same = subscription.get("id") == account.stripe_subscription_id
    if not same and account.stripe_subscription_id:
        # An event about another subscription than the one followed may be old (a retry of
        # an earlier subscription's event): its payload is not trusted; Stripe's current
        # state of that subscription decides (_belongs on the fetched status).
        return subscription_fetch_and_sync(account, str(subscription["id"]), reason=f"{reason} (other: fetched)")
    watermark = account.last_event_created
    if same and watermark is not None:
        if created < watermark:
            return "ignored_stale"
        if created == watermark and event_id != account.last_event_id:
            return subscription_fetch_and_sync(
                account, str(subscription["id"]), reason=f"{reason} (same second: fetched)"
            )
        if event_id == account.last_event_id:
            return "ignored_applied"
    _state_apply(account, subscription, reason=reason, at=created)
    account.last_event_created, account.last_event_id = created, event_id
    account.save(update_fields=["last_event_created", "last_event_id", "updated_at"])
    return "applied"


def current_subscription(subscriptions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Of a customer's subscriptions: the newest of those that count most (``status_rank``:
    paying, then live, then ended)."""
    ordered = sorted(
        subscriptions,
        key=lambda s: (status_rank(str(s.get("status") or "")), int(s.get("created") or 0)),
        reverse=True,
    )
    return ordered[0] if ordered else None


# --- Notices -----------------------------------------------------------------------------


def owners_email(tenant: Tenant, kind: str, data: dict[str, Any]) -> None:
    """An email to the workspace's owners, sent by Celery after the commit."""
    enqueue_on_commit(EMAIL_TASK, tenant_id=str(tenant.pk), kind=kind, data=data)


def record_event(account: BillingAccount, type: str, data: dict[str, Any]) -> None:
    """A domain event (audit log) of the account's workspace, in its context."""
    with transaction.atomic(), tenant_context(account.tenant):
        events.record(type, account, data)


# --- Reconciliation ------------------------------------------------------------------------


def account_reconcile(*, account_id: Any) -> dict[str, list[Any]]:
    """Re-reads the account's subscriptions from Stripe and applies the current one (a
    webhook that never came heals here). Records ``billing.reconciled`` with what it
    corrected, when it corrected anything. Stripe is read before the lock is taken."""
    account = BillingAccount.objects.get(pk=account_id)
    if not account.stripe_customer_id:
        return {}
    as_of = timezone.now()
    subscription = current_subscription(stripe_client.subscriptions_of_customer(account.stripe_customer_id))
    if subscription is None:
        return {}
    with transaction.atomic():
        account = account_locked(account_id)
        changes = subscription_sync(account, subscription, reason="reconciliation", as_of=as_of)
        if changes:
            logger.warning(
                "billing reconciliation corrected %s of workspace %s: %s",
                account.stripe_customer_id,
                account.tenant_id,
                sorted(changes),
                extra={"tenant_id": str(account.tenant_id)},
            )
            record_event(
                account,
                "billing.reconciled",
                {
                    "subscription": subscription.get("id"),
                    "changes": {k: [str(v[0]), str(v[1])] for k, v in changes.items()},
                },
            )
    return changes


# --- The end of a grace period ------------------------------------------------------------


def grace_ends_announce(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """The workspaces whose past-due grace period has ended since the last run: the free
    plan's limits apply now (``effective_plan`` computes that when read); this records it
    once (``billing.grace_ended``, the audit log) and emails the owners. Returns how many."""
    now = now or timezone.now()
    due = list(
        BillingAccount.objects.filter(
            status=BillingStatus.PAST_DUE, grace_ends_at__lte=now, grace_ended_notified_at__isnull=True
        ).values_list("pk", flat=True)[:limit]
    )
    announced = 0
    for account_id in due:
        with transaction.atomic():
            account = account_locked(account_id)
            if (
                account.status != BillingStatus.PAST_DUE
                or account.grace_ends_at is None
                or account.grace_ends_at > now
                or account.grace_ended_notified_at is not None
            ):
                continue  # paid (or announced) meanwhile
            account.grace_ended_notified_at = now
            account.save(update_fields=["grace_ended_notified_at", "updated_at"])
            data = {
                "plan": FREE,
                "subscribed_plan": account.plan_code,
                "grace_ended_at": account.grace_ends_at.isoformat(),
            }
            record_event(account, "billing.grace_ended", data)
            owners_email(
                account.tenant,
                "plan_changed",
                {"before": account.plan_code, "after": FREE, "status": BillingStatus.PAST_DUE},
            )
            announced += 1
    return announced
