"""The event store: every domain event of a workspace, readable with filters, newest first.

Two backends behind one small interface (``write``, ``list``):

- **PostgreSQL** (``EVENT_STORE_URL`` empty): the outbox table itself,
  ``tenants_domainevent``, is the store; nothing is copied.
- **MongoDB** (``EVENT_STORE_URL`` is a ``mongodb://`` or ``mongodb+srv://`` URL): the
  subscriber ``event-store`` of the relay (``tenants.events``) copies each event into the
  collection ``events`` of the URL's database (default ``stockroom``), with the event id as
  ``_id``, so a batch delivered again writes nothing twice. Indexes start with
  ``tenant_id``; a TTL index on ``created_at`` drops events after
  ``EVENT_STORE_RETENTION_DAYS``.

MongoDB sits behind this one module: the client class is the setting
``EVENT_STORE_CLIENT`` (``pymongo.MongoClient``; the tests use ``mongomock.MongoClient``,
the network boundary), every failure of the server becomes ``EventStoreUnavailable``
(503 ``event_store_unavailable``), and every query names the tenant of the current
context, never one taken from input.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.db.models import Q
from django.utils.module_loading import import_string
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

from core.errors import DomainError
from integrations import errors
from tenants import events
from tenants.context import get_current_tenant
from tenants.models import DomainEvent

logger = logging.getLogger("stockroom.event_store")

SUBSCRIBER = "event-store"
COLLECTION = "events"
DEFAULT_DATABASE = "stockroom"
DUPLICATE_KEY = 11000  # MongoDB's error code for an _id that exists
INDEX_OPTIONS_CONFLICT = (85, 86)  # an index of that name or keys exists with other options
MONGODB_SCHEMES = ("mongodb://", "mongodb+srv://")


class EventStoreUnavailable(DomainError):
    status_code = 503
    code = errors.EVENT_STORE_UNAVAILABLE
    default_message = "The event store is temporarily unavailable. Try again shortly."


@dataclass(frozen=True)
class EventFilters:
    """The audit log's filters: ``type`` exact, or a prefix ending in a dot (``product.``)."""

    type: str | None = None
    subject: str | None = None
    actor: uuid.UUID | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True)
class Position:
    """Where a page starts: after the event (``created_at``, ``id``) in the newest-first
    order, or before it (``backwards``: the page before, for a ``previous`` link)."""

    created_at: datetime
    id: uuid.UUID
    backwards: bool = False


@dataclass
class EventPage:
    events: list[DomainEvent]  # newest first
    next: Position | None
    previous: Position | None


class EventStore(Protocol):
    def write(self, events: Sequence[DomainEvent]) -> None: ...

    def list(
        self, *, tenant_id: uuid.UUID, filters: EventFilters, position: Position | None, page_size: int
    ) -> EventPage: ...


def _page(rows: list[DomainEvent], position: Position | None, page_size: int) -> EventPage:
    """A page from ``page_size + 1`` rows read in the direction of ``position`` (newest
    first; oldest first for a backwards position): the extra row says there is more."""
    more = len(rows) > page_size
    rows = rows[:page_size]
    if position is not None and position.backwards:
        rows.reverse()
        previous = Position(rows[0].created_at, rows[0].id, backwards=True) if more else None
        following = Position(rows[-1].created_at, rows[-1].id) if rows else None
        return EventPage(rows, following, previous)
    following = Position(rows[-1].created_at, rows[-1].id) if more else None
    previous = Position(rows[0].created_at, rows[0].id, backwards=True) if position is not None and rows else None
    return EventPage(rows, following, previous)


class PostgresEventStore:
    """The outbox table is the store: nothing to write, and reads are the audit log's
    (its indexes start with the tenant: ``event_tenant_time``, ``event_tenant_type_time``,
    ``event_tenant_subject``)."""

    def write(self, events: Sequence[DomainEvent]) -> None:
        """The events are in the table already (the services wrote them)."""

    def list(
        self, *, tenant_id: uuid.UUID, filters: EventFilters, position: Position | None, page_size: int
    ) -> EventPage:
        rows = DomainEvent.objects.filter(tenant_id=tenant_id)
        if filters.type:
            rows = (
                rows.filter(type__startswith=filters.type)
                if filters.type.endswith(".")
                else rows.filter(type=filters.type)
            )
        if filters.subject:
            rows = rows.filter(subject_id=filters.subject)
        if filters.actor:
            rows = rows.filter(Q(actor_user_id=filters.actor) | Q(actor_api_key_id=filters.actor))
        if filters.created_after:
            rows = rows.filter(created_at__gte=filters.created_after)
        if filters.created_before:
            rows = rows.filter(created_at__lt=filters.created_before)
        if position is None or not position.backwards:
            if position is not None:
                rows = rows.filter(
                    Q(created_at__lt=position.created_at) | Q(created_at=position.created_at, id__lt=position.id)
                )
            rows = rows.order_by("-created_at", "-id")
        else:
            rows = rows.filter(
                Q(created_at__gt=position.created_at) | Q(created_at=position.created_at, id__gt=position.id)
            ).order_by("created_at", "id")
        return _page(list(rows[: page_size + 1]), position, page_size)


_FIELDS = ("type", "subject_type", "subject_id", "data", "changes", "ip", "request_id", "created_at")


def _optional_id(value: Any) -> str | None:
    return str(value) if value is not None else None


class MongoEventStore:
    """One collection for every tenant; each document is an event with ``_id`` = its id and
    ``tenant_id``, and every query filters on the current tenant's id. Ids are stored as
    their text (8-4-4-4-12), times as BSON dates (milliseconds)."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection

    def write(self, events: Sequence[DomainEvent]) -> None:
        """Inserts the events; one already stored (a batch delivered again) is skipped."""
        tenant_id = str(get_current_tenant().id)
        documents = []
        for event in events:
            if str(event.tenant_id) != tenant_id:  # the relay hands over the current tenant's only
                raise ValueError("An event of another tenant was handed to the event store.")
            documents.append(
                {
                    "_id": str(event.id),
                    "tenant_id": tenant_id,
                    **{name: getattr(event, name) for name in _FIELDS},
                    "actor_user_id": _optional_id(event.actor_user_id),
                    "actor_api_key_id": _optional_id(event.actor_api_key_id),
                }
            )
        if not documents:
            return
        try:
            self.collection.insert_many(documents, ordered=False)
        except BulkWriteError as exc:
            if any(error.get("code") != DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
                raise EventStoreUnavailable("The event store refused a write.") from exc
            if exc.details.get("writeConcernErrors"):
                raise EventStoreUnavailable("The event store did not confirm a write.") from exc
        except PyMongoError as exc:
            raise EventStoreUnavailable() from exc

    def list(
        self, *, tenant_id: uuid.UUID, filters: EventFilters, position: Position | None, page_size: int
    ) -> EventPage:
        conditions: list[dict[str, Any]] = [{"tenant_id": str(tenant_id)}]
        if filters.type:
            prefix = filters.type.endswith(".")
            conditions.append({"type": {"$regex": "^" + re.escape(filters.type)} if prefix else filters.type})
        if filters.subject:
            conditions.append({"subject_id": filters.subject})
        if filters.actor:
            actor = str(filters.actor)
            conditions.append({"$or": [{"actor_user_id": actor}, {"actor_api_key_id": actor}]})
        if filters.created_after:
            conditions.append({"created_at": {"$gte": filters.created_after}})
        if filters.created_before:
            conditions.append({"created_at": {"$lt": filters.created_before}})
        direction = DESCENDING
        if position is not None:
            operator = "$gt" if position.backwards else "$lt"
            direction = ASCENDING if position.backwards else DESCENDING
            conditions.append(
                {
                    "$or": [
                        {"created_at": {operator: position.created_at}},
                        {"created_at": position.created_at, "_id": {operator: str(position.id)}},
                    ]
                }
            )
        try:
            documents = list(
                self.collection.find({"$and": conditions})
                .sort([("created_at", direction), ("_id", direction)])
                .limit(page_size + 1)
            )
        except PyMongoError as exc:
            raise EventStoreUnavailable() from exc
        return _page([_event(document) for document in documents], position, page_size)


def _event(document: dict[str, Any]) -> DomainEvent:
    """A stored document as an (unsaved) DomainEvent, rendered like the audit log's."""
    return DomainEvent(
        id=uuid.UUID(document["_id"]),
        tenant_id=uuid.UUID(document["tenant_id"]),
        **{name: document.get(name) for name in _FIELDS},
        actor_user_id=document.get("actor_user_id"),
        actor_api_key_id=document.get("actor_api_key_id"),
    )


# --- Configuration, the client and the subscriber ------------------------------------------

_clients: dict[tuple[str, str], Any] = {}
_indexed: set[tuple[str, str, int]] = set()
_lock = threading.Lock()


def mongodb_configured() -> bool:
    return settings.EVENT_STORE_URL.startswith(MONGODB_SCHEMES)


def collection() -> Any:
    """The events collection, on a client kept for the process (pymongo pools its
    connections), with its indexes made once per process."""
    url, factory = settings.EVENT_STORE_URL, settings.EVENT_STORE_CLIENT
    with _lock:
        client = _clients.get((factory, url))
        if client is None:
            timeout = settings.EVENT_STORE_TIMEOUT_MS
            client = import_string(factory)(
                url,
                serverSelectionTimeoutMS=timeout,
                connectTimeoutMS=timeout,
                socketTimeoutMS=timeout * 5,
                tz_aware=True,
                connect=False,
                appname="stockroom",
            )
            _clients[(factory, url)] = client
    stored = client.get_default_database(DEFAULT_DATABASE)[COLLECTION]
    key = (factory, url, settings.EVENT_STORE_RETENTION_DAYS)
    if key not in _indexed:
        try:
            ensure_indexes(stored)
        except PyMongoError as exc:
            raise EventStoreUnavailable() from exc
        _indexed.add(key)
    return stored


def ensure_indexes(collection: Any) -> None:
    """The indexes the reads use (each starts with the tenant, ends with the newest-first
    order) and the TTL index of the retention; a changed retention is applied to the
    existing TTL index (``collMod``)."""
    collection.create_index(
        [("tenant_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], name="tenant_time"
    )
    collection.create_index(
        [("tenant_id", ASCENDING), ("type", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
        name="tenant_type_time",
    )
    collection.create_index(
        [("tenant_id", ASCENDING), ("subject_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
        name="tenant_subject_time",
    )
    seconds = settings.EVENT_STORE_RETENTION_DAYS * 86400
    try:
        collection.create_index([("created_at", ASCENDING)], name="retention", expireAfterSeconds=seconds)
    except OperationFailure as exc:
        if exc.code not in INDEX_OPTIONS_CONFLICT:
            raise
        collection.database.command(
            "collMod", collection.name, index={"name": "retention", "expireAfterSeconds": seconds}
        )


def close() -> None:
    """Closes the clients of this process (settings changed: tests, a reconfigured shell)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
        _indexed.clear()


def event_store() -> EventStore:
    """The configured backend."""
    if mongodb_configured():
        return MongoEventStore(collection())
    return PostgresEventStore()


def store_events(batch: list[DomainEvent]) -> None:
    """The relay's subscriber: copies a batch into MongoDB. A failure raises, so the relay
    keeps its cursor and delivers the batch again."""
    event_store().write(batch)


def subscribe() -> None:
    """Registers the subscriber when the store is MongoDB (``IntegrationsConfig.ready``).
    Its cursor starts at the first event, so turning MongoDB on copies the history that
    PostgreSQL holds."""
    if mongodb_configured():
        events.subscribe(SUBSCRIBER, store_events)
