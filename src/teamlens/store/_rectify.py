"""Rectification in the store (R21): one person's group at one level, corrected for a span of weeks.

The HR directory keeps each person's placements as rows valid over [valid_from, valid_to). A
correction names the person, the level, the right group and the days it applies to; every row of
that person overlapping those days is split so that the overlap carries the corrected group and
the rest keeps what it had. Other people's rows are untouched.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from teamlens.domain import DIRECTORY_SCHEMA

#: The directory columns a correction may change.
LEVEL_COLUMNS = ("team", "department", "division", "location")


def regrouped(
    table: pa.Table, person: str, column: str, group: str, start: dt.date, end: dt.date | None
) -> tuple[pa.Table, int]:
    """``table`` with ``person``'s ``column`` set to ``group`` over [start, end), and the rows changed."""
    if column not in LEVEL_COLUMNS:
        raise ValueError(f"'{column}' is not a directory level ({', '.join(LEVEL_COLUMNS)})")
    rows = table.to_pylist()
    kept: list[dict[str, object]] = []
    changed = 0
    for row in rows:
        first, last = row["valid_from"], row["valid_to"]
        overlaps = row["person"] == person and (end is None or first < end) and (last is None or last > start)
        if not overlaps:
            kept.append(row)
            continue
        changed += 1
        if first < start:
            kept.append({**row, "valid_to": start})
        corrected_end = last if end is None else end if last is None else min(last, end)
        kept.append({**row, "valid_from": max(first, start), "valid_to": corrected_end, column: group})
        if end is not None and (last is None or last > end):
            kept.append({**row, "valid_from": end})
    return pa.Table.from_pylist(kept, schema=DIRECTORY_SCHEMA), changed
