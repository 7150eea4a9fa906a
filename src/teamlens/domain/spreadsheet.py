"""Cells of every CSV teamlens writes, made safe to open in a spreadsheet (CSV/formula injection).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(…)`` in a team's name would run
in the reader's spreadsheet). Such a cell is written with a leading apostrophe, which every one
of them shows as the text itself (OWASP's advice). Numbers, dates and empty cells are left as
they are: a negative number is a number, not a formula.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as it may be written to a CSV cell: text starting like a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """A CSV row with every cell passed through :func:`spreadsheet_safe`."""
    return [spreadsheet_safe(value) for value in values]


def safe_text_column(column: pa.Array) -> pa.Array:
    """A text column (Arrow) with every formula-like cell escaped; other types are returned as they are."""
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        return column
    pattern = "^[" + "".join("\\" + start if start in "-" else start for start in FORMULA_STARTS) + "]"
    risky = pc.fill_null(pc.match_substring_regex(column, pattern), False)
    escaped: pa.Array = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
    return escaped
