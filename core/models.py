"""Model helpers every app uses (no models of its own).

Partial updates: a service takes each field as a typed keyword argument defaulting to
``UNSET`` (``name: str | Unset = UNSET``), and hands them to ``update_fields``, which
sets only the fields given and saves only those columns.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


class Unset(enum.Enum):
    """The type of ``UNSET``: "not given", as opposed to ``None`` (a value)."""

    UNSET = "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET = Unset.UNSET


def given(**values: Any) -> dict[str, Any]:
    """The keyword arguments that were given (not ``UNSET``)."""
    return {name: value for name, value in values.items() if value is not UNSET}


def assign(instance: models.Model, /, **changes: Any) -> list[str]:
    """Sets the given fields on ``instance`` (skipping ``UNSET``) without saving; returns
    their names. For services that check a rule on the new values before saving."""
    values = given(**changes)
    for name, value in values.items():
        setattr(instance, name, value)
    return list(values)


def saved_fields(instance: models.Model, names: list[str]) -> list[str] | None:
    """``update_fields`` for ``save()``: the names plus the model's ``auto_now`` fields
    (``updated_at``); ``None`` (every field) for a new instance."""
    if instance._state.adding:
        return None
    auto_now = [f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)]
    return [*names, *(name for name in auto_now if name not in names)]


def update_fields(instance: M, /, **changes: Any) -> M:
    """Sets the given fields (skipping ``UNSET``) and saves only those columns (plus
    ``auto_now`` ones). Nothing given: nothing is written. A new instance is saved whole."""
    names = assign(instance, **changes)
    if names or instance._state.adding:
        instance.save(update_fields=saved_fields(instance, names))
    return instance
