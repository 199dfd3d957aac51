"""The writer threads: they write batches while the job's thread reads the next ones."""

from __future__ import annotations

import contextvars
import queue
import threading
from collections import Counter
from dataclasses import dataclass, field

from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Model

from core.errors import ValidationFailed
from inventory.errors import InsufficientStock
from inventory.imports import write
from inventory.imports.write import Batch, ChangedDuringImport
from inventory.models import ImportJob, Warehouse
from tenants.models import User

WRITERS = 2  # writer threads (connections) in the Celery task

# Errors that fail one batch (and so the job) with a message rather than a crash: a
# concurrent edit between validation and writing (a SKU or barcode taken, a product
# deleted or its unit changed), or a count below what is reserved.
BATCH_ERRORS = (IntegrityError, DataError, ValidationFailed, InsufficientStock, ChangedDuringImport)


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    processed: int = 0
    inserted: Counter[type[Model]] = field(default_factory=Counter)  # rows per model (committed or not)
    failure: str | None = None  # the first failed batch
    crash: BaseException | None = None  # anything else: re-raised in the job's thread


class _RollBack(Exception):
    """Ends a writer's transaction without committing it."""


class Writers:
    """Writes batches while the job's thread goes on reading and validating the file.

    ``count`` writer threads, each with its own database connection (Django's are per
    thread) and a copy of the caller's context, so the tenant is the job's. Each writer
    holds ONE transaction for all its batches: nothing is visible before the end, and
    ``close(commit=...)`` decides for all of them at once, after every writer has written
    its batches. The writers check foreign keys statement by statement (``SET CONSTRAINTS
    ALL IMMEDIATE``), so the COMMITs have nothing left that can fail but the server
    itself. Batches hold distinct products (a SKU appears once in a valid file), so the
    writers never wait on each other. With ``count`` 0 (tests inside a transaction) the
    batches are written in the calling thread, in one atomic block."""

    def __init__(self, job: ImportJob, user: User | None, warehouses: dict[str, Warehouse], count: int) -> None:
        self.job, self.user, self.warehouses = job, user, warehouses
        self.outcome = Outcome()
        self._lock = threading.Lock()
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=max(count, 1))
        self._commit = False
        self._closed = False
        self._barrier = threading.Barrier(count + 1)
        self._written = 0  # batches written in the calling thread (count 0)
        self._inline = transaction.atomic() if count == 0 else None
        if self._inline is not None:
            self._inline.__enter__()
        self._threads = [
            threading.Thread(target=contextvars.copy_context().run, args=(self._loop,), name=f"import-writer-{n}")
            for n in range(count)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def stopped(self) -> bool:
        return self.outcome.failure is not None or self.outcome.crash is not None

    @property
    def processed(self) -> int:
        with self._lock:
            return self.outcome.processed

    @property
    def committed(self) -> bool:
        return self._commit

    def submit(self, batch: Batch) -> None:
        if self._threads:
            self._put(batch)
        else:
            self._written += 1
            self._write(batch, self._written)

    def _put(self, item: Batch | None) -> None:
        while self.outcome.crash is None:  # a writer that died stops taking batches
            try:
                self._queue.put(item, timeout=1)
                return
            except queue.Full:
                continue

    def close(self, *, commit: bool) -> Outcome:
        """Waits for every batch, then commits all writers' transactions (``commit`` and
        no batch failed) or rolls all of them back."""
        self._closed = True
        if self._inline is not None:
            self._commit = commit and not self.stopped
            if self._commit:
                self._inline.__exit__(None, None, None)
            else:
                self._inline.__exit__(_RollBack, _RollBack(), None)
        else:
            for _ in self._threads:
                self._put(None)
            try:
                self._barrier.wait()  # every writer has written and checked its batches
                self._commit = commit and not self.stopped
                self._barrier.wait()  # the decision is made
            except threading.BrokenBarrierError:  # a writer died: all roll back
                self._commit = False
            for thread in self._threads:
                thread.join()
        if self.outcome.crash is not None:
            raise self.outcome.crash
        return self.outcome

    def abandon(self) -> None:
        """Rolls every writer back and waits for their threads, when ``close`` was never
        reached: the job's own thread failed (its database connection dropped, say) before
        it could decide. Needs nothing of the job's thread's connection, so the writers
        never wait forever for batches that will not come with their transactions open.
        Does nothing after ``close``."""
        if self._closed:
            return
        self._closed = True
        self._commit = False
        if self._inline is not None:
            self._inline.__exit__(_RollBack, _RollBack(), None)
            return
        for _ in self._threads:
            self._put(None)
        self._barrier.abort()  # a writer at the barrier (or reaching it) rolls back
        for thread in self._threads:
            thread.join()

    def _loop(self) -> None:
        written = 0
        try:
            with transaction.atomic():
                # Foreign keys checked at the end of each statement rather than all at the
                # COMMIT: the same work, but it overlaps with the reading of later batches,
                # and a refused row fails its own batch (see _write).
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                while (batch := self._queue.get()) is not None:
                    if not self.stopped:
                        written += 1
                        self._write(batch, written)
                self._barrier.wait()
                self._barrier.wait()
                if not self._commit:
                    raise _RollBack
        except _RollBack:
            pass
        except BaseException as exc:  # noqa: BLE001 - re-raised in the job's thread by close()
            with self._lock:
                self.outcome.crash = self.outcome.crash or exc
            self._barrier.abort()
        finally:
            connection.close()  # this thread's own connection

    def _write(self, batch: Batch, written: int) -> None:
        inserted: Counter[type[Model]] = Counter()
        try:
            with transaction.atomic():  # a savepoint: a failed batch leaves the transaction usable
                if written > 1 and written & (written - 1) == 0:  # this connection's batches 2, 4, 8, ...
                    write.discard_cached_plans()
                if batch.new:
                    inserted.update(write.insert_new_products(batch.new, self.job, self.warehouses))
                if batch.existing:
                    inserted.update(
                        write.update_existing_products(batch.existing, self.job, self.user, self.warehouses)
                    )
        except BATCH_ERRORS as exc:
            with self._lock:
                if self.outcome.failure is None:
                    self.outcome.failure = f"Rows from line {batch.first_line} could not be written ({_reason(exc)})"
            return
        except BaseException as exc:  # noqa: BLE001 - re-raised in the job's thread by close()
            with self._lock:
                self.outcome.crash = self.outcome.crash or exc
            return
        with self._lock:
            self.outcome.created += len(batch.new)
            self.outcome.updated += len(batch.existing)
            self.outcome.processed += batch.size
            self.outcome.inserted.update(inserted)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ChangedDuringImport | InsufficientStock):
        return f"{exc.__class__.__name__}: {exc}"
    return exc.__class__.__name__


def writer_count() -> int:
    """Writer threads: only when this connection is not inside a transaction (another
    connection could not see its uncommitted rows), i.e. in the Celery task."""
    if connection.in_atomic_block:
        return 0
    return WRITERS
