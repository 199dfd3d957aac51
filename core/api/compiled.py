"""Compiled SQL of the read fast path, kept per request shape.

Building a list's queryset (selector, filter backends, ``values_list``) and compiling it
to SQL took a third of a fast-path request's CPU, and gives the same SQL and parameters
every time the same member asks for the same thing. So ``core.api.fast`` keeps them, per
thread, in a small LRU keyed by the view, the action, the member (tenant, user, role:
``compiled_query_key`` of the view) and the query string; a hit runs the SQL directly.

A compiled query is kept only when it is a function of that key alone. On a miss the
queryset is built and compiled twice: SQL or parameters that differ between the two (a
timestamp taken while building, say) are never kept, and neither is a query whose
building ran a statement (a value read from the database). A detail keeps its SQL with
the id as the one parameter that changes: verified by compiling it for a second id.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections

SIZE = 512
UNCACHEABLE = object()  # kept for a key whose query is not a function of the key


class _Entries(threading.local):
    def __init__(self) -> None:
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()


_local = _Entries()


def get(key: Hashable) -> Any:
    entries = _local.entries
    value = entries.get(key)
    if value is not None:
        entries.move_to_end(key)
    return value


def put(key: Hashable, value: Any) -> None:
    entries = _local.entries
    entries[key] = value
    if len(entries) > SIZE:
        entries.popitem(last=False)


def clear() -> None:
    _local.entries.clear()


@contextmanager
def statements_run(using: str = "default") -> Iterator[list[str]]:
    """The statements run inside the block (building a queryset should run none)."""
    statements: list[str] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connections[using].execute_wrapper(record):
        yield statements
