"""Telling a lost database from a failing statement; where long reads go."""

from django.db import InterfaceError, OperationalError, connections

# The read replica's alias (DATABASE_REPLICA_URL): the runtime role on a replica of the
# database, for long reads that may lag the primary by a moment (exports).
REPLICA = "replica"


def read_alias() -> str:
    """The alias long reads use: the read replica when one is configured, else the primary."""
    return REPLICA if REPLICA in connections else "default"


# SQLSTATE classes of a server that is going away or cannot take the connection: connection
# exception (08), insufficient resources (53: too many connections, out of memory), operator
# intervention (57P: shutdown, pg_terminate_backend, cannot connect now). No SQLSTATE at all
# means the client library lost the connection (refused, reset, closed).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


def is_database_unavailable(exc: BaseException | None) -> bool:
    """The database cannot be reached or the connection died: not a fault of the request
    (answered 503 ``database_unavailable``). A deadlock or a constraint is not this."""
    if isinstance(exc, InterfaceError):  # "connection already closed"
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate is None or str(sqlstate).startswith(_UNAVAILABLE_SQLSTATES)
