"""Schemathesis checks for Stockroom (the pytest run and the full run of docs/api.md load it).

``schema_valid_request_accepted`` replaces Schemathesis' ``positive_data_acceptance``.
That check counts every 400 to a schema-valid request as the schema's fault. Here a
400 is the schema's fault only when it says the request broke a rule the schema can
state: a field code from ``SHAPE_CODES`` (a type, a format, a length, a choice, a
required field...) or a malformed body. Other 400s are business rules that no JSON
Schema can state, and they answer with their own code: an id that does not exist in
this workspace (``does_not_exist``), a password that is too common, a taken SKU
(``unique``), a date range that ends before it starts (``invalid_range``)...
docs/api.md lists both kinds.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure

# Field codes that mean "the request does not match the schema": the schema must say so.
SHAPE_CODES = frozenset(
    {
        "required",
        "null",
        "blank",
        "invalid",
        "invalid_choice",
        "incorrect_type",
        "incorrect_match",
        "max_length",
        "min_length",
        "max_value",
        "min_value",
        "max_digits",
        "max_decimal_places",
        "max_whole_digits",
        "max_string_length",
        "not_a_list",
        "not_a_dict",
        "empty",
        "date",
        "datetime",
        "make_aware",
        "overflow",
        "null_characters_not_allowed",
        "surrogate_characters_not_allowed",
        "no_name",
        "invalid_pk_value",
        "invalid_id",
    }
)
# Top-level codes that always mean the request itself was malformed.
# (An unknown cursor is not one: a cursor is an opaque string, and only those handed out are known.)
SHAPE_ERRORS = frozenset({"parse_error", "unsupported_media_type", "request_too_large"})
# 422 is `idempotency_key_reused`: an Idempotency-Key the run already sent with another body,
# a rule of state like a 409's, which no schema can state.
ACCEPTED = {401, 403, 404, 409, 422, 429}


class SchemaValidRequestRejected(Failure):
    checks = ("schema_valid_request_accepted",)
    kind_title = "Schema-valid request rejected for its shape"


def _uploaded_files(case: Any) -> set[str]:
    """Fields holding a file: the schema describes a file's part, not its content (the CSV
    columns are in docs/inventory.md), so an empty or malformed file is a content rule."""
    body = case.body if isinstance(case.body, dict) else {}
    return {name for name, value in body.items() if isinstance(value, bytes | bytearray) or hasattr(value, "data")}


def _shape_problems(body: Any, case: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["the body is not the error shape"]
    if body.get("code") in SHAPE_ERRORS:
        return [f"code `{body['code']}`"]
    problems = []
    files = _uploaded_files(case)
    for field, errors in (body.get("fields") or {}).items():
        if field in files:
            continue
        for error in errors:
            if error.get("code") in SHAPE_CODES:
                problems.append(f"`{field}`: {error.get('code')} ({error.get('message')})")
    return problems


@schemathesis.check
def schema_valid_request_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code < 400:
        return None
    if response.status_code in ACCEPTED or response.status_code >= 500:  # 5xx: not_a_server_error's job
        return None
    if response.status_code == 400:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        problems = _shape_problems(body, case)
        if not problems:
            return None  # a business rule, with its own code
        message = "A schema-valid request was refused for its shape: " + "; ".join(problems)
    else:
        message = f"A schema-valid request was answered {response.status_code}"
    raise SchemaValidRequestRejected(operation=case.operation.label, message=message)
