"""The import as the Celery worker runs it: outside a transaction, so batches are written
by writer threads on their own connections (real commits)."""

import contextlib
import contextvars
import threading

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, connections, transaction
from django.db import Error as DjangoDatabaseError

from inventory.imports import parse, services, validate, write, writers
from inventory.imports.services import import_job_create, import_job_run
from inventory.models import Category, ImportJob, Product, StockLevel, StockMovement
from inventory.services.catalog import category_create
from inventory.services.integrity import stock_discrepancies
from inventory.tests.factories import make_product, make_warehouse, receive
from tenants.context import tenant_context
from tenants.models import Role
from tenants.tests.factories import client_for, make_member, make_tenant


def test_celery_task_writes_batches_on_two_connections(committed, monkeypatch):
    """Outside a transaction (as in the worker) the batches are written by writer
    threads with their own connections, in the job's tenant."""
    monkeypatch.setattr(parse, "BATCH", 4)
    monkeypatch.setattr(writers, "WRITERS", 2)
    threads: set[str] = set()
    insert = write.insert_new_products

    def spy(*args):
        threads.add(threading.current_thread().name)
        return insert(*args)

    monkeypatch.setattr(write, "insert_new_products", spy)
    other = make_tenant(slug="import-other")
    with tenant_context(other):
        make_warehouse("MAIN")
        theirs = make_product(sku="T-003", name="Theirs")
    member = make_member(make_tenant(slug="import-threads"), Role.OWNER)
    with tenant_context(member.tenant):
        warehouse = make_warehouse("MAIN")
        existing = make_product(sku="T-005", name="Existing")
        receive(existing, warehouse, 100)
    rows = "".join(f"T-{n:03d},Thread {n},{n % 5}\n" for n in range(30))

    response = client_for(member).post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("t.csv", ("sku,name,stock:MAIN\n" + rows).encode())},
        format="multipart",
    )

    assert response.status_code == 202, response.content
    assert threads == {"import-writer-0", "import-writer-1"}
    with tenant_context(member.tenant), transaction.atomic():
        job = ImportJob.objects.get()
        assert job.status == "succeeded", job.message
        assert (job.processed_rows, job.created_count, job.updated_count) == (30, 29, 1)
        assert Product.objects.count() == 30
        assert {lv.product.sku: lv.on_hand for lv in StockLevel.objects.select_related("product")} == {
            f"T-{n:03d}": n % 5 for n in range(30)
        }
        assert StockMovement.objects.filter(reference_id=job.id).count() == 24 + 1  # 24 non-zero new + 1 existing
        assert stock_discrepancies() == []
    with tenant_context(other), transaction.atomic():
        assert list(Product.objects.values_list("sku", "name")) == [("T-003", "Theirs")]
        assert StockLevel.objects.count() == 0 and theirs.pk == Product.objects.get().pk


def test_a_failed_batch_on_a_writer_thread_rolls_every_writer_back(committed, monkeypatch):
    monkeypatch.setattr(parse, "BATCH", 3)
    monkeypatch.setattr(writers, "WRITERS", 2)
    member = make_member(make_tenant(slug="import-conflict"), Role.OWNER)
    with tenant_context(member.tenant):
        make_warehouse("MAIN")
    validate_batch = validate.validate_batch

    def validate_then_conflict(batch, *args):
        errors = validate_batch(batch, *args)
        if batch[0][0][0] == 5:  # lines 5-7 validated: another user takes barcode 555
            make_product(sku="OTHER", name="Other", barcode="555")
        return errors

    monkeypatch.setattr(validate, "validate_batch", validate_then_conflict)
    rows = "".join(f"C-{n},C {n},{'555' if n == 4 else ''},{n + 1}\n" for n in range(9))

    response = client_for(member).post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("c.csv", ("sku,name,barcode,stock:MAIN\n" + rows).encode())},
        format="multipart",
    )

    assert response.status_code == 202, response.content
    with tenant_context(member.tenant), transaction.atomic():
        job = ImportJob.objects.get()
        assert job.status == "failed"
        assert job.message.startswith("Rows from line 5 could not be written (IntegrityError); nothing was imported.")
        # every writer rolled back, the batches written before the failure too
        assert list(Product.objects.values_list("sku", flat=True)) == ["OTHER"]
        assert job.processed_rows == job.created_count == 0
        assert StockMovement.objects.count() == 0
        assert stock_discrepancies() == []


def test_a_failed_import_removes_the_categories_it_committed(committed, monkeypatch):
    """Categories are committed as the file is read (the writers' connections must see
    them); a job that fails removes those it made, and keeps the ones it found."""
    monkeypatch.setattr(parse, "BATCH", 2)
    monkeypatch.setattr(writers, "WRITERS", 2)
    member = make_member(make_tenant(slug="import-categories"), Role.OWNER)
    with tenant_context(member.tenant):
        make_warehouse("MAIN")
        kept = category_create(name="Hardware")
    content = (
        "sku,name,category,stock:MAIN\n"
        "A-1,A,Hardware > Bolts > Small,1\n"
        "A-2,B,Garden > Hoses,2\n"
        "A-3,C,Tools,3\n"
        "A-4,,Tools,4\n"  # a new product without a name: the job fails
    )

    response = client_for(member).post(
        "/api/v1/imports/", {"file": SimpleUploadedFile("c.csv", content.encode())}, format="multipart"
    )

    assert response.status_code == 202, response.content
    with tenant_context(member.tenant), transaction.atomic():
        job = ImportJob.objects.get()
        assert job.status == "failed" and job.errors[0]["row"] == 5
        assert list(Category.objects.values_list("pk", flat=True)) == [kept.pk]
        assert Product.objects.count() == 0 and StockMovement.objects.count() == 0


GROWN_TABLES = ("inventory_product", "inventory_stocklevel", "inventory_stockmovement")


def _statistics() -> dict[str, tuple[object, float]]:
    """Per table: when it was last analyzed by hand (``ANALYZE``, not autovacuum) and the
    planner's row estimate."""
    with connections["ops"].cursor() as cursor:
        cursor.execute(
            "SELECT s.relname, s.last_analyze, c.reltuples FROM pg_stat_user_tables s "
            "JOIN pg_class c ON c.oid = s.relid WHERE s.relname LIKE 'inventory_%%'"
        )
        return {name: (last, reltuples) for name, last, reltuples in cursor.fetchall()}


def _import(member, rows: int) -> ImportJob:
    content = "sku,name,stock:MAIN,stock:EAST\n" + "".join(f"G-{n:05d},Grown {n},{n % 7 + 1},0\n" for n in range(rows))
    response = client_for(member).post(
        "/api/v1/imports/", {"file": SimpleUploadedFile("g.csv", content.encode())}, format="multipart"
    )
    assert response.status_code == 202, response.content
    with tenant_context(member.tenant), transaction.atomic():
        job = ImportJob.objects.get()
    assert job.status == "succeeded", job.message
    return job


def test_an_import_that_grows_the_tables_analyzes_them(committed):
    """1,200 new products (2,400 levels, 1,200 movements) into tables that held almost
    nothing: once committed, the job runs ANALYZE on exactly those three tables, so the
    planner's estimates count the new rows (the test server runs without autovacuum)."""
    member = make_member(make_tenant(slug="import-grows"), Role.OWNER)
    with tenant_context(member.tenant):
        make_warehouse("MAIN")
        make_warehouse("EAST")
    before = _statistics()

    _import(member, 1200)

    after = _statistics()
    for table in GROWN_TABLES:
        assert after[table][0] is not None and after[table][0] != before[table][0], table
    with connections["ops"].cursor() as cursor:  # BYPASSRLS: every tenant's rows
        for table in GROWN_TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert after[table][1] == cursor.fetchone()[0], table
    assert after["inventory_category"][0] == before["inventory_category"][0]  # not grown: not analyzed
    assert after["inventory_warehouse"][0] == before["inventory_warehouse"][0]


def test_a_small_import_does_not_analyze(committed):
    member = make_member(make_tenant(slug="import-small"), Role.OWNER)
    with tenant_context(member.tenant):
        make_warehouse("MAIN")
        make_warehouse("EAST")
    before = _statistics()

    _import(member, 40)

    after = _statistics()
    assert {table: after[table][0] for table in GROWN_TABLES} == {table: before[table][0] for table in GROWN_TABLES}


def test_the_writers_roll_back_when_the_job_thread_loses_its_connection(committed, monkeypatch):
    """A failover or a pooler's timeout drops the job thread's connection while it decides
    for the writers: the import fails at once, every writer rolls back and no transaction
    is left open. (The writers used to wait forever for batches, their transactions open.)"""
    monkeypatch.setattr(parse, "BATCH", 3)
    monkeypatch.setattr(writers, "WRITERS", 2)
    member = make_member(make_tenant(slug="import-dropped"), Role.OWNER)
    rows = "".join(f"D-{n:03d},Dropped {n},{n % 4}\n" for n in range(12))
    with tenant_context(member.tenant):
        make_warehouse("MAIN")
        job = import_job_create(
            upload=SimpleUploadedFile("d.csv", ("sku,name,stock:MAIN\n" + rows).encode()),
            skip_invalid_rows=False,
            user=member.user,
        )
    check = services.limit_check

    def drop_the_connection_then_check(**kwargs):
        # The job thread's connection dies inside the block that decides for the writers
        # (outside a transaction the backend would simply reconnect).
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return check(**kwargs)

    monkeypatch.setattr(services, "limit_check", drop_the_connection_then_check)
    raised: list[BaseException] = []

    def job_thread():
        try:
            with tenant_context(member.tenant):
                import_job_run(job=job)
        except DjangoDatabaseError as exc:
            raised.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=contextvars.copy_context().run, args=(job_thread,), daemon=True)
    thread.start()
    thread.join(timeout=60)

    assert not thread.is_alive(), "the import hangs: its writers wait for batches that never come"
    assert raised, "the import should fail on its dropped connection"
    assert [t.name for t in threading.enumerate() if t.name.startswith("import-writer")] == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%%' AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone() == (0,)
    with tenant_context(member.tenant), transaction.atomic():
        assert Product.objects.count() == 0 and StockMovement.objects.count() == 0
