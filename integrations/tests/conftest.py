from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.tests.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP receiver on 127.0.0.1 that verifies signatures with its own code."""
    running = Receiver().start()
    yield running
    running.stop()
