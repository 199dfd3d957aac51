"""Reading an import file: the header, then each row's cells, with no database access.

A row keeps only the cells given: an empty cell leaves a product's value as it is. Cells
are read through ``csvformat.restore`` (an export's quote before a formula-like cell goes).

Two layouts: products with opening stock in ``stock:<WAREHOUSE CODE>`` columns (the
products export's), or stock levels, one row per product and warehouse in the columns
``sku``, ``warehouse`` and ``on_hand`` (the stock-levels export's). In the second, the
consecutive rows of one SKU make one row of the import.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.files.storage import default_storage

from core.numbers import PRICE, QUANTITY, NumberKind
from inventory.csvformat import category_path_split, restore
from inventory.models import CATEGORY_MAX_LEVELS, CATEGORY_NAME_MAX_LENGTH, WHOLE_UNITS, ImportJob, Unit, Warehouse

BATCH = 5000  # rows per batch (one validation query set and one write each)
STOCK_PREFIX = "stock:"
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
# The stock-levels layout: a warehouse code and the count of the product in it.
LEVEL_COLUMNS = ("warehouse", "on_hand")
# Read-only columns of the exports, accepted and ignored so an export imports as it is.
IGNORED_COLUMNS = {"average_cost"}
IGNORED_LEVEL_COLUMNS = {"product", "reserved", "available", "updated_at"}
# The kind of number of each decimal column, with its limits (core.numbers); stock counts are quantities.
DECIMAL_COLUMNS = {"cost_price": PRICE, "selling_price": PRICE, "reorder_point": QUANTITY, "reorder_quantity": QUANTITY}
MAX_LENGTHS = {"sku": 64, "name": 200, "barcode": 64, "image_url": 500}
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
    # (index, warehouse code, the header as written) of each stock:<CODE> column.
    stock_cells: list[tuple[int, str, str]]
    stock_headers: dict[str, str]  # warehouse code -> the header as written, for errors
    # The stock-levels layout: (index of warehouse, index of on_hand, the known warehouse codes).
    level: tuple[int, int, frozenset[str]] | None = None

    def stock_column(self, code: str) -> str:
        """The column a row error about the stock of warehouse ``code`` names."""
        return self.stock_headers.get(code, "on_hand")


class ParsedBatch(list[tuple[Row, list[RowError]]]):
    """Parsed rows, each with its own errors, and ``lines``: the records of the file they
    came from (more than the rows when stock-levels rows of one SKU were merged)."""

    lines = 0


def open_rows(job: ImportJob) -> tuple[IO[bytes], Any]:
    raw = default_storage.open(job.storage_key, "rb")
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    # strict: a quote that is never closed is an error, not a cell running to the end of the file
    return raw, csv.reader(text, strict=True)


def decimal(value: str, kind: NumberKind = QUANTITY) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CellError("Not a number.") from None
    if not number.is_finite() or number < 0 or number > kind.max_value:
        raise CellError(f"Must be a number from 0 to {kind.max_value:,f}.")
    if number != number.quantize(kind.quantum):
        raise CellError(f"Use at most {kind.decimal_places} decimal places.")
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


@functools.lru_cache(maxsize=4096)  # a file names the same few paths on many rows
def _category(value: str) -> tuple[str, ...]:
    """The names of a category path (``csvformat``); an empty path clears the category."""
    names = category_path_split(value)
    if len(names) > CATEGORY_MAX_LEVELS:
        raise CellError(f"Categories nest at most {CATEGORY_MAX_LEVELS} levels deep.")
    if any(len(name) > CATEGORY_NAME_MAX_LENGTH for name in names):
        raise CellError(f"A category name is longer than {CATEGORY_NAME_MAX_LENGTH} characters.")
    return tuple(names)


def _attributes(value: str) -> dict[str, Any]:
    try:
        attributes = json.loads(value, parse_constant=_refuse_constant)
    except ValueError:
        attributes = None
    if not isinstance(attributes, dict):
        raise CellError("Must be a JSON object.")
    return attributes


CONVERTERS: dict[str, Callable[[str], Any]] = {
    **{column: functools.partial(decimal, kind=kind) for column, kind in DECIMAL_COLUMNS.items()},
    "lead_time_days": _days,
    "unit": _unit,
    "is_active": _boolean,
    "attributes": _attributes,
    "category": _category,
}


def header(reader: Any, warehouses: dict[str, Warehouse]) -> Layout:
    try:
        names = next(reader, None)
    except UnicodeDecodeError as exc:
        raise ImportFileError("The file is not UTF-8 text.") from exc
    except csv.Error as exc:
        raise _malformed(exc, reader, 1) from exc
    if not names:
        raise ImportFileError("The file is empty: the first line must name the columns.")
    columns: dict[str, int] = {}
    stock: dict[str, tuple[int, str]] = {}
    level: dict[str, int] = {}
    keys = {name.strip().lower() for name in names}
    levels = any(column in keys for column in LEVEL_COLUMNS)
    unknown = []
    for index, name in enumerate(names):
        key = name.strip()
        if levels and key.lower() in LEVEL_COLUMNS:
            level[key.lower()] = index
        elif levels and key.lower() in IGNORED_LEVEL_COLUMNS:
            continue
        elif key.lower().startswith(STOCK_PREFIX):
            written = key[len(STOCK_PREFIX) :].strip()
            code = written.lower()
            if code not in warehouses:
                raise ImportFileError(f"Column {key!r}: there is no warehouse with code {written!r}.")
            stock[name] = (index, code)
        elif key.lower() in PRODUCT_COLUMNS:
            columns[key.lower()] = index
        elif key.lower() in IGNORED_COLUMNS:
            continue
        else:
            unknown.append(key)
    if unknown:
        raise ImportFileError(
            f"Unknown columns: {', '.join(unknown)}. Known: {', '.join(PRODUCT_COLUMNS)}, "
            "stock:<WAREHOUSE CODE> (or warehouse and on_hand, one row per product and warehouse)."
        )
    if "sku" not in columns:
        raise ImportFileError("The column 'sku' is required.")
    if levels and len(level) < len(LEVEL_COLUMNS):
        raise ImportFileError("A file of stock levels needs the columns sku, warehouse and on_hand.")
    if level and stock:
        raise ImportFileError(
            "Give stock either in stock:<WAREHOUSE CODE> columns or in warehouse and on_hand, not both."
        )
    return Layout(
        width=len(names),
        columns=[(column, index, CONVERTERS.get(column)) for column, index in columns.items()],
        stock_cells=[(index, code, name) for name, (index, code) in stock.items()],
        stock_headers={code: name for name, (_, code) in stock.items()},
        level=(level["warehouse"], level["on_hand"], frozenset(warehouses)) if level else None,
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
        if value[0] == "'":
            value = restore(value)
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
    cells = layout.stock_cells
    if layout.level is not None:
        code = _level_warehouse(line, raw, layout.level, errors)
        cells = [(layout.level[1], code, "on_hand")] if code is not None else []
    for index, code, column in cells:
        value = raw[index].strip() if index < size else ""
        if value:
            if value[0] == "'":
                value = restore(value)
            try:
                quantity = decimal(value)
            except CellError as exc:
                errors.append(RowError(line, column, str(exc)))
                continue
            if whole and quantity != quantity.to_integral_value():
                errors.append(RowError(line, column, f"{values['unit']} takes whole numbers."))
            else:
                stock[code] = quantity
    return line, values, stock


def _level_warehouse(
    line: int, raw: list[str], level: tuple[int, int, frozenset[str]], errors: list[RowError]
) -> str | None:
    """The warehouse code of a stock-levels row (lowercase), or None with its error."""
    index, _, known = level
    code = restore(raw[index].strip()) if index < len(raw) else ""
    if not code:
        errors.append(RowError(line, "warehouse", "The warehouse code is required."))
        return None
    if code.lower() not in known:
        errors.append(RowError(line, "warehouse", f"There is no warehouse with code {code!r}."))
        return None
    return code.lower()


def _merge(group: tuple[Row, list[RowError]], row: Row, errors: list[RowError]) -> None:
    """Adds a stock-levels row to the row of its SKU started on an earlier line."""
    (_, values, stock), group_errors = group
    line, more_values, more_stock = row
    group_errors.extend(errors)
    if more_stock.keys() & stock.keys():
        group_errors.append(RowError(line, "warehouse", "This warehouse appears earlier for this SKU."))
    values.update((name, value) for name, value in more_values.items() if name != "sku")  # the first spelling
    stock.update(more_stock)


def _malformed(exc: csv.Error, reader: Any, started: int) -> ImportFileError:
    """``started``: the line the record being read began on."""
    if "unexpected end of data" in str(exc):
        return ImportFileError(
            f'Line {started}: a quoted cell is never closed (a closing " is missing), '
            "so the rest of the file would be one cell."
        )
    return ImportFileError(f"The CSV is malformed on line {reader.line_num}: {exc}.")


def _same_sku(first: Row, second: Row) -> bool:
    sku = first[1].get("sku")
    return sku is not None and sku.lower() == (second[1].get("sku") or "").lower()


def batches(reader: Any, layout: Layout) -> Iterator[ParsedBatch]:
    """The file's rows, parsed, ``BATCH`` at a time, each with its own errors."""
    batch = ParsedBatch()
    size = BATCH
    group = layout.level is not None  # consecutive rows of one SKU make one row
    ended = reader.line_num  # the line the last record ended on
    try:
        for raw in reader:
            ended = reader.line_num
            if not raw:  # a blank line
                continue
            errors: list[RowError] = []
            row = parse_row(reader.line_num, raw, layout, errors)
            if group and batch and _same_sku(batch[-1][0], row):
                _merge(batch[-1], row, errors)
                batch.lines += 1
                continue
            if len(batch) >= size:  # a full batch goes once the next row is not of its last SKU
                yield batch
                batch = ParsedBatch()
            batch.append((row, errors))
            batch.lines += 1
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"The file is not UTF-8 text (near line {reader.line_num + 1}).") from exc
    except csv.Error as exc:
        raise _malformed(exc, reader, ended + 1) from exc
    if batch:
        yield batch
