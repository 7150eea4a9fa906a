"""People per bin of their weekly root-mean-square of each metric: the DP bounds suggestion's input.

The population is the release's (``_aggregate``: everyone placed or active in a week of the
weeks asked, objectors left out); each person counts once per metric, in the bin of their
root-mean-square weekly value over those weeks (0 without activity). Only counts leave here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from teamlens.domain import FACT_SCHEMA, GroupLevel
from teamlens.errors import InternalError
from teamlens.store._aggregate import POPULATION_SQL, directory_table, keys_sql, months_between
from teamlens.store._duck import relation, view_parquet

# ``weekly``: a person's value of a metric in a week (the sum of their facts, negatives as 0),
# one row per week in which they have a fact of that metric.
_WEEKLY_SQL = """
weekly AS (
    SELECT f.person, f.day - CAST(isodow(f.day) - 1 AS INTEGER) AS week, f.metric,
           greatest(sum(f.value), 0) AS v
    FROM facts AS f
    WHERE f.day >= $first_day AND f.day < $end_day AND f.metric IN (SELECT metric FROM clip)
    GROUP BY ALL
)"""


_HISTOGRAM_SQL = (
    "WITH"  # noqa: S608
    + _WEEKLY_SQL
    + POPULATION_SQL
    + """,
people AS (SELECT DISTINCT person FROM members),
rms AS (
    SELECT p.person, c.metric, sqrt(coalesce(sum(CAST(w.v AS DOUBLE) * w.v), 0) / $weeks) AS r
    FROM people AS p
    CROSS JOIN clip AS c
    LEFT JOIN weekly AS w ON w.person = p.person AND w.metric = c.metric
    GROUP BY ALL
)
SELECT b.metric, b.bin, count(*) AS people
FROM rms AS r JOIN bins AS b ON b.metric = r.metric AND r.r >= b.lo AND r.r < b.hi
GROUP BY ALL
"""
)


def rms_histogram(
    con: duckdb.DuckDBPyConnection,
    *,
    month_files: Mapping[str, Path],
    directory: Path | pa.Table | None,
    weeks: Sequence[dt.date],
    edges: Mapping[str, Sequence[float]],
    exclude: Collection[str],
) -> dict[str, list[int]]:
    """Per metric, how many people's weekly root-mean-square over ``weeks`` falls in each bin.

    Bins are [edges[i], edges[i+1]) and a last one from the last edge up; the population is the
    block's (everyone placed or active in one of its weeks, objectors left out), each person
    once per metric, with a root-mean-square of 0 when they have no activity of that metric.
    """
    if not weeks or any(week.weekday() != 0 for week in weeks):
        raise InternalError("rms_histogram() needs the Mondays of a block")
    rows = []
    for name, bounds in edges.items():
        if list(bounds) != sorted(bounds) or not bounds or bounds[0] != 0:
            raise InternalError("histogram edges must start at 0 and increase")
        tops = [*bounds[1:], math.inf]
        rows += [(name, index, low, high) for index, (low, high) in enumerate(zip(bounds, tops, strict=True))]
    first_day, end_day = min(weeks), max(weeks) + dt.timedelta(days=7)
    con.register("dir", directory_table(directory))
    con.register("excluded", pa.table({"person": pa.array(sorted(set(exclude)), pa.string())}))
    con.register("block_weeks", pa.table({"week": pa.array(sorted(weeks), pa.date32())}))
    con.register("clip", pa.table({"metric": pa.array(list(edges), pa.string())}))
    con.register(
        "bins",
        pa.table(
            {
                "metric": pa.array([row[0] for row in rows], pa.string()),
                "bin": pa.array([row[1] for row in rows], pa.int64()),
                "lo": pa.array([row[2] for row in rows], pa.float64()),
                "hi": pa.array([row[3] for row in rows], pa.float64()),
            }
        ),
    )
    files = [
        path for month, path in sorted(month_files.items()) if month in months_between(first_day, end_day)
    ]
    view_parquet(con, "facts", files, FACT_SCHEMA)
    level = [GroupLevel.ORGANISATION]
    sql = _HISTOGRAM_SQL.format(keys=keys_sql(level), key_columns="k_organisation")
    params = {"first_day": first_day, "end_day": end_day, "weeks": float(len(weeks))}
    counts = {name: [0] * len(bounds) for name, bounds in edges.items()}
    for name, index, people in relation(con, sql, params).fetchall():
        counts[name][index] = int(people)
    return counts
