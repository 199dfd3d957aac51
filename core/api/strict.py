"""JSON types as the schema states them, for every serializer.

DRF coerces: ``"sku": 0`` becomes the text ``"0"``, ``"is_active": "no"`` becomes
``False``, ``"quantity": 3`` a decimal, ``"lead_time_days": "7"`` an integer. The
schema says text is a JSON string, a flag a JSON boolean, an amount a decimal
*string* (docs/api.md: never a float) and a count a JSON integer, and a client that
sends something else has a bug it should hear about. So a value of another JSON type
is refused with the field code ``incorrect_type``.

Only bodies parsed from JSON are held to this: form fields and query parameters are
text by nature (there a boolean is ``true`` or ``false``). ``install()`` runs once,
from ``CoreConfig.ready``, and wraps the ``to_internal_value`` of DRF's base fields,
so every serializer of every app gets it, declared fields and model fields alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.utils.datastructures import MultiValueDict
from rest_framework import serializers

INCORRECT_TYPE = "incorrect_type"
# The one spelling of a uuid the schema documents (format: uuid); Python also reads braces,
# "urn:uuid:" and 32 bare hex digits.
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
FORM_BOOLEANS = {"true": True, "false": False, "True": True, "False": False}

_installed = False


def _from_json(field: serializers.Field[Any, Any, Any, Any]) -> bool:
    data = getattr(field.root, "initial_data", None)
    return isinstance(data, dict | list) and not isinstance(data, MultiValueDict)


def _refuse(expected: str) -> None:
    raise serializers.ValidationError(f"Must be a JSON {expected}.", code=INCORRECT_TYPE)


def _wrap(cls: type[Any], check: Callable[[Any, Any], Any]) -> None:
    original = cls.to_internal_value

    def to_internal_value(self: Any, data: Any) -> Any:
        return original(self, check(self, data))

    to_internal_value.__wrapped__ = original  # type: ignore[attr-defined]
    cls.to_internal_value = to_internal_value


def _text(field: Any, data: Any) -> Any:
    if not isinstance(data, str) and _from_json(field):
        _refuse("string")
    return data


def _uuid(field: Any, data: Any) -> Any:
    data = _text(field, data)
    if isinstance(data, str) and not UUID_PATTERN.fullmatch(data):
        raise serializers.ValidationError("Must be a valid UUID (8-4-4-4-12 hex digits).", code="invalid")
    return data


def _decimal(field: Any, data: Any) -> Any:
    if not isinstance(data, str) and _from_json(field):
        _refuse('string holding a decimal number (e.g. "12.50")')
    return data


def _integer(field: Any, data: Any) -> Any:
    if (isinstance(data, bool) or not isinstance(data, int)) and _from_json(field):
        _refuse("integer")
    return data


def _boolean(field: Any, data: Any) -> Any:
    if _from_json(field):
        if not isinstance(data, bool):
            _refuse("boolean (true or false)")
    elif data not in FORM_BOOLEANS and not isinstance(data, bool):
        raise serializers.ValidationError("Must be true or false.", code="invalid")
    return data


def _wrap_empty_decimal() -> None:
    """DRF reads a blank string as null for a nullable decimal; JSON has ``null`` for that."""
    original = serializers.DecimalField.validate_empty_values

    def validate_empty_values(self: Any, data: Any) -> Any:
        if isinstance(data, str) and not data.strip() and _from_json(self):
            raise serializers.ValidationError("A valid number is required (null for none).", code="invalid")
        return original(self, data)

    serializers.DecimalField.validate_empty_values = validate_empty_values  # type: ignore[method-assign]


def install() -> None:
    global _installed  # patched once per process
    if _installed:
        return
    _installed = True
    _wrap(serializers.CharField, _text)
    _wrap(serializers.UUIDField, _uuid)
    _wrap(serializers.DecimalField, _decimal)
    _wrap_empty_decimal()
    _wrap(serializers.IntegerField, _integer)
    _wrap(serializers.BooleanField, _boolean)
