"""Clipped per-group totals in one DuckDB query: the only way facts leave the store in bulk.

The query follows the privacy model literally. Per window, the population is the people the
directory places at the window start (one row each: their group then), minus objectors; at
organisation level, also everyone with a fact in the window. A person's value of a metric is
the sum of their facts in the window's ISO weeks, clipped to ``[0, bound]``; a group's total
is the sum over its members, so one person moves it by at most ``bound`` (1 for headcount).

Windows, weeks, bounds, objectors and the directory reach DuckDB as registered Arrow tables,
and the remaining values as parameters: nothing from the caller is ever spliced into SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from teamlens.domain import AGGREGATE_SCHEMA, DIRECTORY_SCHEMA, FACT_SCHEMA, HEADCOUNT, GroupLevel, Window
from teamlens.errors import InternalError, StoreError
from teamlens.store._duck import read_table, relation, view_parquet

#: How many month files one query may read (see ``chunks``).
_MONTHS_PER_QUERY = 2

#: The group every person belongs to at organisation level.
ORGANISATION_GROUP = "Organisation"

_AGGREGATE_SQL = """
WITH
sums AS (
    SELECT w.win, f.person, f.metric, sum(f.value) AS v
    FROM facts AS f
    JOIN win_weeks AS w ON w.monday = f.day - CAST(isodow(f.day) - 1 AS INTEGER)
    WHERE f.day >= $first_day AND f.day < $end_day
      AND ($organisation OR f.metric IN (SELECT metric FROM win_bounds))
    GROUP BY w.win, f.person, f.metric
),
placed AS (
    SELECT s.win, d.person, d.grp,
           row_number() OVER (PARTITION BY s.win, d.person ORDER BY d.valid_from DESC) AS pick
    FROM win_starts AS s
    JOIN dir AS d ON d.valid_from <= s.start AND (d.valid_to IS NULL OR s.start < d.valid_to)
),
members AS (
    SELECT win, person, grp FROM placed WHERE pick = 1 AND grp IS NOT NULL
    UNION
    SELECT DISTINCT win, person, $organisation_group FROM sums WHERE $organisation
),
population AS (
    SELECT win, person, grp FROM members
    WHERE person NOT IN (SELECT person FROM excluded)
),
totals AS (
    SELECT p.win, p.grp, s.metric,
           sum(CAST(least(greatest(s.v, 0), b.bound) AS BIGINT)) AS total
    FROM sums AS s
    JOIN population AS p ON p.win = s.win AND p.person = s.person
    JOIN win_bounds AS b ON b.win = s.win AND b.metric = s.metric
    GROUP BY p.win, p.grp, s.metric
),
cells AS (
    SELECT DISTINCT p.win, p.grp, b.metric
    FROM population AS p JOIN win_bounds AS b ON b.win = p.win
)
SELECT c.grp AS "group", c.win AS "window", c.metric, CAST(coalesce(t.total, 0) AS BIGINT) AS total
FROM cells AS c
LEFT JOIN totals AS t ON t.win = c.win AND t.grp = c.grp AND t.metric = c.metric
UNION ALL
SELECT grp, win, $headcount_metric, count(*) FROM population WHERE $headcount GROUP BY grp, win
"""


def level_column(level: str) -> GroupLevel:
    """The grouping level named ``level``, or a StoreError listing the levels there are."""
    try:
        return GroupLevel(level)
    except ValueError:
        known = ", ".join(item.value for item in GroupLevel)
        raise StoreError(
            f"'{level}' is not a grouping level.",
            f"Use one of: {known} (as in the policy's grouping_levels).",
        ) from None


def store_month(day: dt.date) -> str:
    """The month file that holds facts of the ISO week starting on Monday ``day``."""
    return f"{day.year:04d}-{day.month:02d}"


def months_of(window: Window) -> set[str]:
    """Every store month that can hold a fact of one of ``window``'s weeks."""
    return {store_month(monday) for monday in window.weeks}


def chunks(windows: Sequence[Window]) -> list[list[Window]]:
    """``windows`` in groups that each read at most a couple of month files.

    One query per group keeps the per-person intermediate (people × windows × metrics) small
    enough for the memory limit however many windows are asked for, while windows that share
    month files (the weeks of one month) are still answered from a single scan.
    """
    groups: list[list[Window]] = []
    months: set[str] = set()
    for window in sorted(set(windows), key=lambda item: (item.start, item.end, item.key)):
        needed = months_of(window)
        if groups and len(months | needed) <= _MONTHS_PER_QUERY:
            groups[-1].append(window)
            months |= needed
        else:
            groups.append([window])
            months = set(needed)
    return groups


def _window_tables(windows: Sequence[Window], bounds: Mapping[tuple[str, str], int]) -> dict[str, pa.Table]:
    keys = [window.key for window in windows]
    wanted = set(keys)
    bound_rows = [(key, metric, value) for (key, metric), value in bounds.items() if key in wanted]
    for _, _, value in bound_rows:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InternalError("aggregate() was given a bound that is not a whole number ≥ 0")
    return {
        "win_starts": pa.table(
            {"win": keys, "start": pa.array([window.start for window in windows], pa.date32())}
        ),
        "win_weeks": pa.table(
            {
                "win": [window.key for window in windows for _ in window.weeks],
                "monday": pa.array([monday for window in windows for monday in window.weeks], pa.date32()),
            }
        ),
        "win_bounds": pa.table(
            {
                "win": pa.array([row[0] for row in bound_rows], pa.string()),
                "metric": pa.array([row[1] for row in bound_rows], pa.string()),
                "bound": pa.array([row[2] for row in bound_rows], pa.int64()),
            }
        ),
    }


def _directory_table(directory: Path | None, level: GroupLevel) -> pa.Table:
    """The directory reduced to what placement needs, its group column named ``grp``."""
    if directory is None:
        table = DIRECTORY_SCHEMA.empty_table()
    else:
        columns = ["person", "valid_from", "valid_to"]
        if level is not GroupLevel.ORGANISATION:
            columns.append(level.value)
        table = read_table(directory, columns=columns)
    if level is GroupLevel.ORGANISATION:
        grp = pa.array([ORGANISATION_GROUP] * table.num_rows, pa.string())
    else:
        grp = table.column(level.value)
    return table.select(["person", "valid_from", "valid_to"]).append_column("grp", grp)


def aggregate(
    con: duckdb.DuckDBPyConnection,
    *,
    month_files: Mapping[str, Path],
    directory: Path | None,
    level: GroupLevel,
    windows: Sequence[Window],
    bounds: Mapping[tuple[str, str], int],
    headcount: bool,
    exclude: Collection[str],
) -> pa.Table:
    """Clipped totals per group, window and metric as an ``AGGREGATE_SCHEMA`` table.

    ``month_files`` maps store months to their current files; only those the windows need
    are read.
    """
    con.register("dir", _directory_table(directory, level))
    con.register("excluded", pa.table({"person": pa.array(sorted(set(exclude)), pa.string())}))
    parts = [AGGREGATE_SCHEMA.empty_table()]
    for group in chunks(windows):
        for name, table in _window_tables(group, bounds).items():
            con.register(name, table)
        needed = set().union(*(months_of(window) for window in group))
        files = [path for month, path in sorted(month_files.items()) if month in needed]
        view_parquet(con, "facts", files, FACT_SCHEMA)
        params = {
            "first_day": min(window.start for window in group),
            "end_day": max(window.end for window in group),
            "organisation": level is GroupLevel.ORGANISATION,
            "organisation_group": ORGANISATION_GROUP,
            "headcount": headcount,
            "headcount_metric": HEADCOUNT,
        }
        result = relation(con, _AGGREGATE_SQL, params).to_arrow_table()
        parts.append(result.rename_columns(AGGREGATE_SCHEMA.names).cast(AGGREGATE_SCHEMA))
    return pa.concat_tables(parts).sort_by(
        [("window", "ascending"), ("group", "ascending"), ("metric", "ascending")]
    )
