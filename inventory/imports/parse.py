"""Reading an import file: the header, then each row's cells, with no database access.

A row keeps only the cells given: an empty cell leaves a product's value as it is.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.files.storage import default_storage

from inventory.models import WHOLE_UNITS, ImportJob, Unit, Warehouse

BATCH = 5000  # rows per batch (one validation query set and one write each)
STOCK_PREFIX = "stock:"
MAX_DECIMAL = Decimal("99999999999999.9999")
QUANTUM = Decimal("0.0001")
UNITS = frozenset(Unit.values)

PRODUCT_COLUMNS = [
    "sku",
    "name",
    "description",
    "category",
    "unit",
    "barcode",
    "cost_price",
    "selling_price",
    "reorder_point",
    "reorder_quantity",
    "lead_time_days",
    "is_active",
    "image_url",
    "attributes",
]
# Read-only columns of a products export, accepted and ignored so an export imports as it is.
IGNORED_COLUMNS = {"average_cost"}
DECIMAL_COLUMNS = {"cost_price", "selling_price", "reorder_point", "reorder_quantity"}
MAX_LENGTHS = {"sku": 64, "name": 200, "barcode": 64, "image_url": 500, "category": 1000}
TRUE = {"1", "true", "yes", "y", "t"}
FALSE = {"0", "false", "no", "n", "f"}

# A parsed row: (line number, product values given in the file, opening stock per warehouse code).
Row = tuple[int, dict[str, Any], dict[str, Decimal]]


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header, CSV syntax)."""


class CellError(ValueError):
    """A cell's value is invalid; the message is the row error's."""


@dataclass
class Layout:
    """Where the known columns are in each CSV row."""

    width: int
    # (column, index, converter or None for text); the last of duplicate headers wins.
    columns: list[tuple[str, int, Callable[[str], Any] | None]]
    # (index, warehouse code) of each stock:<CODE> column.
    stock: list[tuple[int, str]]
    stock_names: dict[int, str]  # index -> the header as written, for errors
    stock_headers: dict[str, str]  # warehouse code -> the header as written, for errors


def open_rows(job: ImportJob) -> tuple[IO[bytes], Any]:
    raw = default_storage.open(job.storage_key, "rb")
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    return raw, csv.reader(text)


def decimal(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CellError("Not a number.") from None
    if not number.is_finite() or number < 0 or number > MAX_DECIMAL:
        raise CellError("Must be a number from 0 to 99,999,999,999,999.")
    if number != number.quantize(QUANTUM):
        raise CellError("Use at most 4 decimal places.")
    return number


def _days(value: str) -> int:
    if not value.isdigit() or int(value) > 3650:
        raise CellError("Must be a whole number of days from 0 to 3650.")
    return int(value)


def _unit(value: str) -> str:
    if value.lower() not in UNITS:
        raise CellError(f"Unknown unit. Use one of: {', '.join(Unit.values)}.")
    return value.lower()


def _boolean(value: str) -> bool:
    if value.lower() not in TRUE | FALSE:
        raise CellError("Use true or false.")
    return value.lower() in TRUE


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON (PostgreSQL's jsonb refuses them)


def _attributes(value: str) -> dict[str, Any]:
    try:
        attributes = json.loads(value, parse_constant=_refuse_constant)
    except ValueError:
        attributes = None
    if not isinstance(attributes, dict):
        raise CellError("Must be a JSON object.")
    return attributes


CONVERTERS: dict[str, Callable[[str], Any]] = {
    **dict.fromkeys(DECIMAL_COLUMNS, decimal),
    "lead_time_days": _days,
    "unit": _unit,
    "is_active": _boolean,
    "attributes": _attributes,
}


def header(reader: Any, warehouses: dict[str, Warehouse]) -> Layout:
    try:
        names = next(reader, None)
    except UnicodeDecodeError as exc:
        raise ImportFileError("The file is not UTF-8 text.") from exc
    except csv.Error as exc:
        raise ImportFileError(f"The CSV is malformed near line {reader.line_num}: {exc}.") from exc
    if not names:
        raise ImportFileError("The file is empty: the first line must name the columns.")
    columns: dict[str, int] = {}
    stock: dict[str, tuple[int, str]] = {}
    unknown = []
    for index, name in enumerate(names):
        key = name.strip()
        if key.lower().startswith(STOCK_PREFIX):
            code = key[len(STOCK_PREFIX) :].strip().lower()
            if code not in warehouses:
                raise ImportFileError(f"Column {key!r}: there is no warehouse with code {code!r}.")
            stock[name] = (index, code)
        elif key.lower() in PRODUCT_COLUMNS:
            columns[key.lower()] = index
        elif key.lower() in IGNORED_COLUMNS:
            continue
        else:
            unknown.append(key)
    if unknown:
        raise ImportFileError(
            f"Unknown columns: {', '.join(unknown)}. Known: {', '.join(PRODUCT_COLUMNS)}, stock:<WAREHOUSE CODE>."
        )
    if "sku" not in columns:
        raise ImportFileError("The column 'sku' is required.")
    return Layout(
        width=len(names),
        columns=[(column, index, CONVERTERS.get(column)) for column, index in columns.items()],
        stock=list(stock.values()),
        stock_names={index: name for name, (index, _) in stock.items()},
        stock_headers={code: name for name, (_, code) in stock.items()},
    )


def parse_row(line: int, raw: list[str], layout: Layout, errors: list[RowError]) -> Row:
    """The row's values (only the cells given) and opening stock; its errors are
    appended to ``errors``."""
    values: dict[str, Any] = {}
    size = len(raw)
    if size > layout.width:
        errors.append(RowError(line, "", "The row has more fields than the header."))
    for column, index, convert in layout.columns:
        value = raw[index].strip() if index < size else ""
        if not value:
            continue
        if "\x00" in value:
            errors.append(RowError(line, column, "Contains a NUL character."))
            continue
        limit = MAX_LENGTHS.get(column)
        if limit is not None and len(value) > limit:
            errors.append(RowError(line, column, f"Longer than {limit} characters."))
            continue
        if convert is None:
            values[column] = value
        else:
            try:
                values[column] = convert(value)
            except CellError as exc:
                errors.append(RowError(line, column, str(exc)))
    if not values.get("sku"):
        errors.append(RowError(line, "sku", "The SKU is required."))
    stock: dict[str, Decimal] = {}
    whole = values.get("unit") in WHOLE_UNITS
    for index, code in layout.stock:
        value = raw[index].strip() if index < size else ""
        if value:
            try:
                quantity = decimal(value)
            except CellError as exc:
                errors.append(RowError(line, layout.stock_names[index], str(exc)))
                continue
            if whole and quantity != quantity.to_integral_value():
                errors.append(RowError(line, layout.stock_names[index], f"{values['unit']} takes whole numbers."))
            else:
                stock[code] = quantity
    return line, values, stock


def batches(reader: Any, layout: Layout) -> Iterator[list[tuple[Row, list[RowError]]]]:
    """The file's rows, parsed, ``BATCH`` at a time, each with its own errors."""
    batch: list[tuple[Row, list[RowError]]] = []
    size = BATCH
    try:
        for raw in reader:
            if not raw:  # a blank line
                continue
            errors: list[RowError] = []
            batch.append((parse_row(reader.line_num, raw, layout, errors), errors))
            if len(batch) >= size:
                yield batch
                batch = []
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"The file is not UTF-8 text (near line {reader.line_num + 1}).") from exc
    except csv.Error as exc:
        raise ImportFileError(f"The CSV is malformed near line {reader.line_num}: {exc}.") from exc
    if batch:
        yield batch
