"""PostgreSQL backend that applies the current tenant as ``app.tenant_id``
transaction-locally before the statements of every transaction (see base.py)."""
