"""Convert a batch's string columns to typed Arrow arrays, failing on the exact line and column.

Conversions run vectorised in Arrow; only when one fails is the offending row searched for and
its physical line found, so a clean file pays nothing for the precise messages.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from teamlens.sources.csv_table import CsvBatch

_WHOLE_NUMBER = r"^[0-9]{1,18}$"


def text(batch: CsvBatch, column: str) -> pa.Array:
    """Column ``column`` with surrounding spaces removed (empty cells stay empty strings)."""
    return pc.utf8_trim_whitespace(batch.columns[column])


def first_true(mask: pa.Array) -> int:
    """The index of the first true value in a boolean array (which must hold one)."""
    return int(pc.index(pc.fill_null(mask, False), True).as_py())


def counts(batch: CsvBatch, column: str) -> pa.Array:
    """Column ``column`` as non-negative int64 counts; an empty cell counts as 0."""
    raw = text(batch, column)
    filled = pc.if_else(pc.equal(raw, ""), "0", raw)
    try:
        values = pc.cast(filled, pa.int64())
        bad = pc.less(values, 0)
    except pa.ArrowInvalid:
        bad = pc.invert(pc.match_substring_regex(filled, _WHOLE_NUMBER))
    if pc.any(bad).as_py():
        raise batch.fail(first_true(bad), column, "this is not a count", expected="a whole number")
    return values


def required_text(batch: CsvBatch, column: str, what: str) -> pa.Array:
    """Column ``column`` trimmed, failing on the first empty cell (``what`` names the value)."""
    values = text(batch, column)
    empty = pc.equal(values, "")
    if pc.any(empty).as_py():
        raise batch.fail(first_true(empty), column, "the cell is empty", expected=what)
    return values


def dates(batch: CsvBatch, column: str, *, optional: bool = False) -> pa.Array:
    """Column ``column`` as date32; an empty cell is null when ``optional``, an error otherwise."""
    raw = text(batch, column)
    empty = pc.equal(raw, "")
    if optional:
        raw = pc.if_else(empty, pa.scalar(None, pa.string()), raw)
    elif pc.any(empty).as_py():
        raise batch.fail(first_true(empty), column, "the date is missing", expected="a date YYYY-MM-DD")
    try:
        return pc.cast(raw, pa.date32())
    except pa.ArrowInvalid:
        pass
    for row, value in enumerate(raw.to_pylist()):
        if value is not None and not _is_date(value):
            raise batch.fail(row, column, "this is not a date", expected="a date YYYY-MM-DD") from None
    # Arrow refused a value Python accepts: still refuse, but without a line to name.
    raise batch.fail(
        None, column, "this column has a value that is not a date", expected="a date YYYY-MM-DD"
    ) from None


def _is_date(value: str) -> bool:
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True
