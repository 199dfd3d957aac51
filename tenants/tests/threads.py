"""Real threads for concurrency tests (with the ``committed`` fixture: real commits)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def in_threads(*targets: Callable[[], object]) -> None:
    """Runs each target in its own thread (its own database connection), all released at
    once by a barrier; fails with the errors any of them raised."""
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target: Callable[[], object]) -> None:
        try:
            barrier.wait()
            target()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
