"""Retention in the store (R15): which facts and directory rows one retention run drops.

Facts go on one clock with two hands: a fact whose day is before the retention cut-off is past
the policy's retention, and a fact whose day lies in a range every catalogue window of which
is released has done its work (its clipping block is measured and kept as noisy values), so it
goes at once. Directory rows go when their validity ended on or before the cut-off (a row
ending later still places someone in a week the store keeps). Counts only, never whose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import FACT_SCHEMA
from teamlens.store._duck import rows, scan, stream, write_parquet

#: A half-open range of days [start, end) whose facts are no longer needed.
DayRange = tuple[dt.date, dt.date]


@dataclass(frozen=True)
class Expired:
    """What one retention run dropped from the store, by class."""

    facts_past_retention: int = 0
    facts_released: int = 0
    directory_rows: int = 0

    @property
    def facts(self) -> int:
        """Every fact dropped, whichever hand of the clock dropped it."""
        return self.facts_past_retention + self.facts_released


def merged(ranges: Sequence[DayRange]) -> list[DayRange]:
    """``ranges`` sorted, with touching or overlapping ranges joined (fewer SQL terms)."""
    joined: list[DayRange] = []
    for start, end in sorted(ranges):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def _predicate(ranges: Sequence[DayRange]) -> tuple[str, dict[str, object]]:
    """SQL true for a fact in one of ``ranges`` (bound parameters only), and its parameters."""
    params: dict[str, object] = {}
    terms = []
    for index, (start, end) in enumerate(ranges):
        params[f"s{index}"], params[f"e{index}"] = start, end
        terms.append(f"(day >= $s{index} AND day < $e{index})")
    return (" OR ".join(terms) or "false"), params


def count_expired(
    con: duckdb.DuckDBPyConnection, files: Sequence[Path], cutoff: dt.date, ranges: Sequence[DayRange]
) -> dict[Path, tuple[int, int]]:
    """Per file: how many facts are past the cut-off, and how many others lie in released ranges."""
    if not files:
        return {}
    released, params = _predicate(ranges)
    scan(con, list(files), filename=True).create_view("scanned")
    sql = (
        "SELECT filename, count(*) FILTER (WHERE day < $cutoff), "  # noqa: S608 (only $names)
        f"count(*) FILTER (WHERE day >= $cutoff AND ({released})) FROM scanned GROUP BY filename"
    )
    found = rows(con, sql, {"cutoff": cutoff, **params})
    return {Path(name): (int(old), int(done)) for name, old, done in found}


def keep_month(
    con: duckdb.DuckDBPyConnection, current: Path, cutoff: dt.date, ranges: Sequence[DayRange], out: Path
) -> int:
    """Write to ``out`` the facts of ``current`` that neither hand of the clock drops; returns how many."""
    released, params = _predicate(ranges)
    scan(con, [current]).create_view("current_month")
    sql = (
        "SELECT person, day, days, metric, value, source FROM current_month "  # noqa: S608 (only $names)
        f"WHERE day >= $cutoff AND NOT ({released}) ORDER BY person, metric, day, days, source"
    )
    return write_parquet(stream(con, sql, {"cutoff": cutoff, **params}), out, FACT_SCHEMA)


def kept_directory(table: pa.Table, cutoff: dt.date) -> pa.Table:
    """The directory rows still placing someone in a week on or after ``cutoff``."""
    ended = pc.fill_null(pc.less_equal(table.column("valid_to"), pa.scalar(cutoff, pa.date32())), False)
    return table.filter(pc.invert(ended))
