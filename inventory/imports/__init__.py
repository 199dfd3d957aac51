"""CSV import of products and opening stock, run by Celery (inventory.tasks).

The file is stored under ``imports/<tenant>/<job>.csv``; the task reads it once, as a
stream, ``parse.BATCH`` rows at a time:

- ``parse``: the header and the cells of each row (types, ranges, lengths); no database.
- ``validate``: the checks that need the database or the rest of the file (existing
  products, duplicate SKUs and barcodes, names of new products).
- ``write``: one batch of valid rows, in the current transaction: categories resolved,
  new products inserted set-based (core.sql), existing ones updated through
  inventory.services.stock.
- ``writers``: the threads (each with its own connection and one transaction for the
  whole job) that write batches while the job's thread reads the next ones.
- ``services``: the job itself (``import_job_create``, ``import_job_run``).
"""
