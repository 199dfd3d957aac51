"""Domain events and their relay (issue 11; docs/integrations.md).

Services call ``record`` inside their transaction: it writes a row of the outbox
(``DomainEvent``, append-only, tenant-scoped) with the actor (the user or the API key
of the request), the request id and the client address, so the event exists if and
only if the change commits. ``record_sql`` gives the same INSERT as SQL, for the stock
ledger's one-statement write, and ``record_columns_sql`` a set-based one (arrays) for bulk
writers.

The relay hands a tenant's events to each subscriber (``subscribe``) in commit-safe
order: (``txid``, ``seq``) below the oldest transaction still running, so an event of a
transaction that commits late is never passed over. Each subscriber has its own cursor
(``EventCursor``), locked with SKIP LOCKED while it works, moved in the transaction
that handles the batch: a crash rolls both back and the batch comes again (at least
once; a subscriber that writes to the same database is exactly once). A subscriber that
fails stops at its failing batch and is tried again by the next run; the others go on.
The relay is kicked after the commit of a write (at most once a second per tenant and
process) and swept by Celery beat (``tenants.tasks.relay_sweep``).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.logging import client_ip_var, request_id_var
from tenants.context import current_api_key_id, current_tenant_id, current_user_id
from tenants.models import DomainEvent, EventCursor
from tenants.tasking import enqueue_on_commit

logger = logging.getLogger("stockroom.events")

Handler = Callable[[list[DomainEvent]], None]
_SUBSCRIBERS: dict[str, Handler] = {}
_last_kick: dict[uuid.UUID, float] = {}
_delayed_kick: dict[uuid.UUID, float] = {}
KICK_INTERVAL_SECONDS = 1.0


@dataclass
class Event:
    """An event to record: ``type`` (``product.updated``), its subject, its data and, for
    updates, the changed fields as ``{field: [before, after]}``."""

    type: str
    subject_type: str
    subject_id: Any
    data: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, list[Any]] | None = None


def _json(value: Any) -> Any:
    """Values as JSON has them (uuids, decimals, dates as strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _rows(events: Iterable[Event]) -> list[DomainEvent]:
    common = {
        "actor_user_id": current_user_id(),
        "actor_api_key_id": current_api_key_id(),
        "ip": client_ip_var.get(),
        "request_id": request_id_var.get() or "",
        "created_at": timezone.now(),
    }
    return [
        DomainEvent(
            type=event.type,
            subject_type=event.subject_type,
            subject_id=str(event.subject_id),
            data=_json(event.data),
            changes=_json(event.changes) if event.changes is not None else None,
            **common,
        )
        for event in events
    ]


def subject_type_of(instance: Any) -> str:
    """A model instance's ``subject_type``: its class name in snake case (``WebhookEndpoint``
    -> ``webhook_endpoint``), as event types name their subjects."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(instance).__name__).lower()


def record(type: str, subject: Any, data: dict[str, Any] | None = None, *, changes: Any = None) -> None:
    """One event about ``subject`` (a model instance) in the current transaction."""
    record_many([Event(type, subject_type_of(subject), subject.pk, data or {}, changes)])


def record_many(events: Sequence[Event]) -> None:
    """Events of the current transaction, in one INSERT."""
    if not events:
        return
    _require_transaction()
    DomainEvent.objects.bulk_create(_rows(events))
    _kick()


def record_sql(events: Sequence[Event]) -> tuple[str, list[Any]]:
    """The INSERT of ``events`` as SQL and parameters (for a data-modifying WITH clause);
    the caller runs it in its transaction. ``txid`` and ``seq`` come from the columns'
    defaults."""
    _require_transaction()
    tenant_id = current_tenant_id()
    rows = _rows(events)
    columns = [
        "id", "tenant_id", "type", "subject_type", "subject_id", "data", "changes",
        "actor_user_id", "actor_api_key_id", "ip", "request_id", "created_at",
    ]  # fmt: skip
    placeholders = "(" + ", ".join(["%s"] * 5 + ["%s::jsonb", "%s::jsonb"] + ["%s"] * 5) + ")"
    params: list[Any] = []
    for row in rows:
        params += [
            row.id, tenant_id, row.type, row.subject_type, row.subject_id, json.dumps(row.data),
            json.dumps(row.changes) if row.changes is not None else None,
            row.actor_user_id, row.actor_api_key_id, row.ip, row.request_id, row.created_at,
        ]  # fmt: skip
    table = DomainEvent._meta.db_table
    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES {", ".join([placeholders] * len(rows))}'  # noqa: S608
    _kick()
    return sql, params


def record_columns_sql(
    type: str, subject_type: str, subject_ids: Sequence[Any], data: dict[str, Sequence[Any] | str]
) -> tuple[str, list[Any]] | None:
    """Events of one ``type``, one per id of ``subject_ids``, as one set-based INSERT for bulk
    writers (the CSV import): each column is an array, unnested, so the statement has a
    fixed number of parameters however many events, and each event's ``data`` is built by
    the database (``jsonb_build_object``), not row by row here. ``data`` maps a key to a
    list (a value per event) or to one string (the same in every event); values are JSON
    strings, written as ``str()`` gives them (ids, decimals and text, as ``record`` writes
    them), None as null. The caller runs it in its transaction, e.g. in a WITH clause of
    its own INSERT. None when there are no ids."""
    if not subject_ids:
        return None
    _require_transaction()
    common = _rows([Event(type, subject_type, "")])[0]
    columns: list[list[str | None]] = [[str(subject_id) for subject_id in subject_ids]]
    pairs: list[str] = []
    params: list[Any] = [current_tenant_id(), type, subject_type]
    for key, values in data.items():
        pairs.append("%s::text")
        params.append(key)
        if isinstance(values, str):
            pairs.append("%s::text")
            params.append(values)
        else:
            assert len(values) == len(subject_ids), "every data column needs one value per event"
            pairs.append(f"u.c{len(columns)}")
            columns.append([str(value) if value is not None else None for value in values])
    params += [common.actor_user_id, common.actor_api_key_id, common.ip, common.request_id, common.created_at]
    params += columns
    aliases = ", ".join(f"c{index}" for index in range(len(columns)))
    table = DomainEvent._meta.db_table
    sql = (
        f'INSERT INTO "{table}" (tenant_id, id, type, subject_type, subject_id, data, '  # noqa: S608 - no value is interpolated
        "actor_user_id, actor_api_key_id, ip, request_id, created_at) "
        f"SELECT %s::uuid, gen_random_uuid(), %s, %s, u.c0, jsonb_build_object({', '.join(pairs)}), "
        "%s::uuid, %s::uuid, %s::inet, %s, %s::timestamptz "
        f"FROM unnest({', '.join(['%s::text[]'] * len(columns))}) AS u({aliases})"
    )
    _kick()
    return sql, params


def changes_of(instance: Any, before: dict[str, Any], names: Iterable[str]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for the fields of ``names`` whose value changed."""
    return {
        name: [before[name], getattr(instance, name)] for name in names if before.get(name) != getattr(instance, name)
    }


# Bookkeeping columns left out of an update's changes.
_NOT_CHANGES = frozenset({"updated_at", "created_at", "tenant_id"})


def snapshot(instance: Any) -> dict[str, Any]:
    """The instance's column values (``attname``: value), to pass to ``record_saved`` as
    ``before``: taken before a service changes the instance."""
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def record_saved(
    instance: Any, before: dict[str, Any] | None, data: dict[str, Any] | None = None, *, kind: str | None = None
) -> None:
    """``<kind>.created`` (``before`` None) or ``<kind>.updated`` with the changed columns
    as ``changes`` (nothing changed: no event). ``kind`` defaults to ``subject_type_of``."""
    kind = kind or subject_type_of(instance)
    if before is None:
        record(f"{kind}.created", instance, data)
        return
    changed = changes_of(instance, before, [name for name in before if name not in _NOT_CHANGES])
    if changed:
        record(f"{kind}.updated", instance, data, changes=changed)


def record_deleted(instance: Any, data: dict[str, Any] | None = None, *, kind: str | None = None) -> None:
    """``<kind>.deleted``: called before the row is deleted, in the same transaction (a
    refused delete rolls the event back with it)."""
    record(f"{kind or subject_type_of(instance)}.deleted", instance, data)


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("Domain events are recorded inside the transaction of the change.")


def _kick() -> None:
    """Queues the relay for the current tenant once the transaction commits: at once at
    most once a second per tenant and process; a write within that second queues one
    relay for the end of it (so the last events of a burst are relayed a second later,
    not at the next sweep), and later writes in the same second queue nothing more.
    Without a broker (eager Celery) every commit runs the relay."""
    tenant_id = current_tenant_id()
    if tenant_id is None or not settings.EVENT_RELAY_KICK:
        return
    if settings.CELERY_TASK_ALWAYS_EAGER:  # no broker (make run): the relay runs here, after each commit
        enqueue_on_commit("tenants.tasks.relay_events")
        return
    now = time.monotonic()
    last = _last_kick.get(tenant_id, -KICK_INTERVAL_SECONDS)
    if now - last >= KICK_INTERVAL_SECONDS:
        _last_kick[tenant_id] = now
        enqueue_on_commit("tenants.tasks.relay_events")
        return
    due = last + KICK_INTERVAL_SECONDS
    if _delayed_kick.get(tenant_id, -KICK_INTERVAL_SECONDS) >= due:
        return  # the end of this second is queued already
    _delayed_kick[tenant_id] = due
    enqueue_on_commit("tenants.tasks.relay_events", countdown=due - now)


# --- The relay ------------------------------------------------------------------------------


def subscribe(name: str, handler: Handler) -> None:
    """Registers a subscriber (at start-up, ``AppConfig.ready``)."""
    _SUBSCRIBERS[name] = handler


def subscribers() -> dict[str, Handler]:
    return dict(_SUBSCRIBERS)


def _horizon() -> int:
    """The oldest transaction id still running: every event below it is committed or gone."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return int(cursor.fetchone()[0])


def _cursor(name: str) -> EventCursor | None:
    """The subscriber's cursor, locked; None when another relay holds it."""
    cursor = EventCursor.objects.select_for_update(skip_locked=True).filter(subscriber=name).first()
    if cursor is None and not EventCursor.objects.filter(subscriber=name).exists():
        try:
            with transaction.atomic():
                EventCursor.objects.create(subscriber=name)
        except IntegrityError:
            pass  # created by a concurrent relay
        cursor = EventCursor.objects.select_for_update(skip_locked=True).filter(subscriber=name).first()
    return cursor


def relay(*, batch: int = 500, only: Iterable[str] | None = None) -> dict[str, int]:
    """Hands the current tenant's new events to each subscriber; returns how many each
    got. Runs in the tenant's context (a Celery task's, or a test's)."""
    delivered: dict[str, int] = {}
    for name, handler in subscribers().items():
        if only is not None and name not in only:
            continue
        delivered[name] = 0
        while True:
            try:
                with transaction.atomic():
                    cursor = _cursor(name)
                    if cursor is None:
                        break
                    horizon = _horizon()
                    events = list(
                        DomainEvent.objects.filter(
                            Q(txid__gt=cursor.txid) | Q(txid=cursor.txid, seq__gt=cursor.seq), txid__lt=horizon
                        ).order_by("txid", "seq")[:batch]
                    )
                    if not events:
                        break
                    handler(events)
                    cursor.txid, cursor.seq = events[-1].txid, events[-1].seq
                    cursor.delivered += len(events)
                    cursor.save(update_fields=["txid", "seq", "delivered", "updated_at"])
            except Exception:
                logger.exception("subscriber %s failed; its batch will be delivered again", name)
                break
            delivered[name] += len(events)
            if len(events) < batch:
                break
    return delivered


# --- Outbox lag (a metric: core/metrics.py) ----------------------------------------------

# For each tenant and subscriber, the first event past the subscriber's cursor (no cursor
# yet: every event is past it), by the (tenant, txid, seq) index: one probe per tenant and
# subscriber, whatever the number of events. The oldest of those is the oldest event some
# subscriber has not been handed yet.
_OLDEST_UNRELAYED_SQL = """
SELECT EXTRACT(EPOCH FROM (clock_timestamp() - min(pending.created_at)))::float8
FROM {tenant} t
CROSS JOIN unnest(%s::text[]) AS s(name)
LEFT JOIN {cursor} c ON c.tenant_id = t.id AND c.subscriber = s.name
CROSS JOIN LATERAL (
    SELECT e.created_at FROM {event} e
    WHERE e.tenant_id = t.id AND (e.txid, e.seq) > (COALESCE(c.txid, 0), COALESCE(c.seq, 0))
    ORDER BY e.txid, e.seq
    LIMIT 1
) AS pending
"""


def outbox_lag_seconds() -> float | None:
    """Seconds since the oldest domain event that a subscriber has not been handed yet was
    recorded (0: none, or no subscribers). Reads across tenants, so only on the operations
    alias (DATABASE_OPS_URL), in a transaction whose statements give up after
    METRICS_STATEMENT_TIMEOUT_MS; None without that alias (the metric is then absent)."""
    from django.db import connections

    from core.sql import set_local
    from tenants.models import Tenant
    from tenants.tasking import OPS_ALIAS

    if OPS_ALIAS not in settings.DATABASES:
        return None
    names = list(subscribers())
    if not names:
        return 0.0
    sql = _OLDEST_UNRELAYED_SQL.format(
        tenant=Tenant._meta.db_table, event=DomainEvent._meta.db_table, cursor=EventCursor._meta.db_table
    )
    with transaction.atomic(using=OPS_ALIAS):
        set_local("statement_timeout", str(int(settings.METRICS_STATEMENT_TIMEOUT_MS)), using=OPS_ALIAS)
        with connections[OPS_ALIAS].cursor() as cursor:
            cursor.execute(sql, [names])
            row = cursor.fetchone()
    lag = row[0] if row else None
    return max(float(lag), 0.0) if lag is not None else 0.0
