"""Database round trips of a block, counted from libpq's own protocol trace.

Every message the client sends (F) and receives (B) is logged by libpq on the
connection; a message from the server that follows one to the server ends a round
trip. Pipelined statements (BEGIN, set_config and a query sent before any answer)
therefore count once, as on the network.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connections
from psycopg import pq


@dataclass
class Trace:
    lines: list[str] = field(default_factory=list)

    @property
    def round_trips(self) -> int:
        trips, last = 0, ""
        for line in self.lines:
            direction = line.split("\t", 1)[0]
            if direction == "B" and last == "F":
                trips += 1
            last = direction
        return trips

    def sent(self, fragment: str) -> bool:
        """Whether a statement containing ``fragment`` was sent."""
        return any(line.startswith("F") and fragment in line for line in self.lines)


@contextmanager
def traced(alias: str = "default") -> Iterator[Trace]:
    """Traces the alias's current connection (opened first if needed) for the block."""
    connection = connections[alias]
    connection.ensure_connection()
    assert connection.connection is not None
    pgconn = connection.connection.pgconn
    trace = Trace()
    with tempfile.TemporaryFile("w+") as output:
        pgconn.trace(output.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield trace
        finally:
            pgconn.untrace()
            output.seek(0)
            trace.lines = output.read().splitlines()
