"""Clipped weekly totals per level and group, in one DuckDB query: the only way facts leave the store.

The query follows the privacy model literally, for one clipping block (consecutive ISO weeks):

- **Population.** In each week, everyone the directory places on that week's Monday, plus
  everyone with a fact that week whom it does not place; objectors are removed. Each person
  has one key per level that week: their group, or a hidden key (``HIDDEN_PREFIX`` and the
  nearest coarser group they do have) when the directory gives them none at that level, so
  that every level partitions the same people and teams add up to their departments.
- **Clipping.** A person's weekly value of a metric is the sum of their facts in the week
  (negatives count as 0). Their vector of weekly values over the block is scaled down, whole,
  when its L2 norm exceeds ``per_week × √weeks``; values are then scaled to fixed-point units
  and rounded down, so the vector's norm never exceeds the bound the noise is calibrated to.
- **Totals.** Per level, group, week and metric, the sum of members' clipped values; with
  ``headcount``, each group's person-weeks in the block too.

The organisation chart the engine needs to add children up to parents comes from directory
rows valid during the block (``STRUCTURE_SCHEMA``): declared, like the group lists, never from
activity. Bounds, weeks, objectors and the directory reach DuckDB as registered Arrow tables,
and the remaining values as parameters: nothing from the caller is spliced into SQL except the
fixed level names of ``GroupLevel``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from teamlens.domain import (
    BLOCK_AGGREGATE_SCHEMA,
    DIRECTORY_SCHEMA,
    FACT_SCHEMA,
    HEADCOUNT,
    HIDDEN_PREFIX,
    STRUCTURE_SCHEMA,
    GroupLevel,
)
from teamlens.errors import InternalError, StoreError
from teamlens.store._duck import read_table, relation, view_parquet

#: The group every person belongs to at organisation level.
ORGANISATION_GROUP = "Organisation"

#: Levels coarse to fine; a key at one level falls back to the nearest coarser group of this chain.
_CHAIN = ("division", "department", "team")

#: Clipping stays a hair inside the bound so that float rounding can never push a norm past it.
_CLIP_MARGIN = 1e-12


@dataclass(frozen=True)
class MetricClip:
    """How one metric is clipped in a block: the L2 bound (stored units) and fixed-point scale."""

    norm_bound: float
    scale: int


def _key_sql(level: str, table: str = "") -> str:
    """The SQL expression of a person's key at ``level`` (a level name from ``GroupLevel``)."""
    prefix = f"{table}." if table else ""
    hidden = f"'{HIDDEN_PREFIX}'"
    if level == GroupLevel.ORGANISATION.value:
        return f"'{ORGANISATION_GROUP}'"
    if level == GroupLevel.LOCATION.value:
        return f"coalesce({prefix}location, {hidden})"
    coarser = _CHAIN[: _CHAIN.index(level)]
    fallbacks = [f"'{name}=' || {prefix}{name}" for name in reversed(coarser)]
    empty = "''"
    nearest = f"coalesce({', '.join([*fallbacks, empty])})" if fallbacks else empty
    return f"coalesce({prefix}{level}, {hidden} || {nearest})"


def keys_sql(levels: Sequence[GroupLevel], table: str = "") -> str:
    return ", ".join(f"{_key_sql(level.value, table)} AS k_{level.value}" for level in levels)


# The same rows from one row per person and metric (a column per week, NULL without a fact;
# UNPIVOT leaves those out), so that the L2 norm over the block needs no window over weeks.
# Squares of whole numbers add up exactly in doubles, in any order.
_WIDE_WEEKLY_SQL = """
wide AS (
    SELECT person, metric, {sums}
    FROM (
        SELECT f.person, f.metric, f.value, (f.day - $first_day) // 7 AS slot
        FROM facts AS f
        WHERE f.day >= $first_day AND f.day < $end_day AND f.metric IN (SELECT metric FROM clip)
    )
    GROUP BY ALL
),
weekly AS (
    SELECT person, $first_day + 7 * CAST(substr(slot, 2) AS INTEGER) AS week, metric,
           greatest(s, 0) AS v, norm
    FROM (UNPIVOT (SELECT *, sqrt({squares}) AS norm FROM wide) ON {slots} INTO NAME slot VALUE s)
)"""

POPULATION_SQL = """,
placed AS (
    SELECT wk.week, d.person, d.division, d.department, d.team, d.location,
           row_number() OVER (PARTITION BY wk.week, d.person ORDER BY d.valid_from DESC) AS pick
    FROM block_weeks AS wk
    JOIN dir AS d ON d.valid_from <= wk.week AND (d.valid_to IS NULL OR wk.week < d.valid_to)
),
active AS (
    SELECT DISTINCT week, person FROM weekly
),
present AS (
    SELECT week, person, division, department, team, location FROM placed WHERE pick = 1
    UNION ALL
    SELECT a.week, a.person, NULL, NULL, NULL, NULL
    FROM active AS a
    WHERE NOT EXISTS (SELECT 1 FROM placed AS p WHERE p.pick = 1 AND p.week = a.week AND p.person = a.person)
),
keyed AS (
    SELECT week, person, {keys}
    FROM present
    WHERE person NOT IN (SELECT person FROM excluded)
),
members AS (
    UNPIVOT keyed ON {key_columns} INTO NAME level VALUE grp
)"""

# The only text spliced into these queries is ``GroupLevel`` values, checked against that enum,
# and the week slots "s0", "s1", … of the block.
_TOTALS_SQL = (
    "WITH"  # noqa: S608
    + _WIDE_WEEKLY_SQL
    + POPULATION_SQL
    + """,
clipped AS (
    SELECT w.person, w.week, w.metric,
           CAST(floor(
               CASE WHEN w.norm <= c.norm_bound THEN CAST(w.v AS DOUBLE) * c.scale
                    ELSE w.v * c.scale * (c.norm_bound / w.norm) * (1 - $margin) END
           ) AS BIGINT) AS x
    FROM weekly AS w
    JOIN clip AS c ON c.metric = w.metric
    WHERE w.v > 0
),
-- Summed per combination of keys first, so that each level's totals add up far fewer rows.
by_keys AS (
    SELECT c.week, c.metric, {key_columns}, sum(c.x) AS x
    FROM clipped AS c
    JOIN keyed AS k ON k.person = c.person AND k.week = c.week
    GROUP BY ALL
),
level_sums AS (
    UNPIVOT by_keys ON {key_columns} INTO NAME level VALUE grp
)
SELECT replace(level, 'k_', '') AS level, grp AS "group", week, metric, sum(x) AS total
FROM level_sums
GROUP BY ALL
UNION ALL
SELECT replace(level, 'k_', ''), grp, $first_day, $headcount_metric, count(*)
FROM members WHERE $headcount
GROUP BY ALL
"""
)

_STRUCTURE_SQL = """
WITH
rows_all AS (
    SELECT person, valid_from, valid_to, division, department, team, location FROM dir
    UNION ALL
    SELECT NULL, DATE '0001-01-01', NULL, NULL, NULL, NULL, NULL
),
keyed AS (
    SELECT valid_from < $end_day AND (valid_to IS NULL OR valid_to > $first_day) AS in_block, {keys}
    FROM rows_all
)
{pairs}
"""

_GROUPS_SQL = """
SELECT DISTINCT {key} AS grp FROM (
    SELECT division, department, team, location FROM dir
    UNION ALL SELECT NULL, NULL, NULL, NULL
) AS d ORDER BY grp
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


def months_between(first_day: dt.date, end_day: dt.date) -> set[str]:
    """Every store month that can hold a fact of a week starting in [first_day, end_day)."""
    months = set()
    monday = first_day
    while monday < end_day:
        months.add(store_month(monday))
        monday += dt.timedelta(days=7)
    return months


def directory_table(directory: Path | pa.Table | None) -> pa.Table:
    """The directory reduced to what placement needs (a table already reduced is returned as is)."""
    columns = ["person", "valid_from", "valid_to", *_CHAIN, "location"]
    if isinstance(directory, pa.Table):
        return directory.select(columns)
    if directory is None:
        return DIRECTORY_SCHEMA.empty_table().select(columns)
    return read_table(directory, columns=columns)


def _check_levels(levels: Sequence[GroupLevel]) -> None:
    if not levels or len(set(levels)) != len(levels):
        raise InternalError("aggregate_block() needs a non-empty list of distinct levels")


def aggregate_block(
    con: duckdb.DuckDBPyConnection,
    *,
    month_files: Mapping[str, Path],
    directory: Path | pa.Table | None,
    levels: Sequence[GroupLevel],
    weeks: Sequence[dt.date],
    clips: Mapping[str, MetricClip],
    headcount: bool,
    exclude: Collection[str],
) -> pa.Table:
    """Clipped fixed-point totals per level, group, week and metric as ``BLOCK_AGGREGATE_SCHEMA``.

    ``weeks`` are the block's Mondays (consecutive); ``clips`` the metrics to total, each with
    its L2 bound and scale. Groups without members have no rows.
    """
    _check_levels(levels)
    if not weeks or any(week.weekday() != 0 for week in weeks):
        raise InternalError("aggregate_block() needs the Mondays of a block")
    for clip in clips.values():
        if not (math.isfinite(clip.norm_bound) and clip.norm_bound > 0 and clip.scale >= 1):
            raise InternalError("aggregate_block() was given a clipping bound that is not positive")
    first_day, end_day = min(weeks), max(weeks) + dt.timedelta(days=7)
    con.register("dir", directory_table(directory))
    con.register("excluded", pa.table({"person": pa.array(sorted(set(exclude)), pa.string())}))
    con.register("block_weeks", pa.table({"week": pa.array(sorted(weeks), pa.date32())}))
    con.register(
        "clip",
        pa.table(
            {
                "metric": pa.array(list(clips), pa.string()),
                "norm_bound": pa.array([clip.norm_bound for clip in clips.values()], pa.float64()),
                "scale": pa.array([clip.scale for clip in clips.values()], pa.int64()),
            }
        ),
    )
    files = [
        path for month, path in sorted(month_files.items()) if month in months_between(first_day, end_day)
    ]
    view_parquet(con, "facts", files, FACT_SCHEMA)
    slots = [f"s{slot}" for slot in range((end_day - first_day).days // 7)]
    sql = _TOTALS_SQL.format(
        keys=keys_sql(levels),
        key_columns=", ".join(f"k_{level.value}" for level in levels),
        sums=", ".join(f"sum(value) FILTER (WHERE slot = {n}) AS {name}" for n, name in enumerate(slots)),
        squares=" + ".join(
            f"coalesce(CAST(greatest({name}, 0) AS DOUBLE) * greatest({name}, 0), 0)" for name in slots
        ),
        slots=", ".join(slots),
    )
    params = {
        "first_day": first_day,
        "end_day": end_day,
        "margin": _CLIP_MARGIN,
        "headcount": headcount,
        "headcount_metric": HEADCOUNT,
    }
    result = relation(con, sql, params).to_arrow_table()
    table = result.rename_columns(BLOCK_AGGREGATE_SCHEMA.names).cast(BLOCK_AGGREGATE_SCHEMA)
    return table.sort_by(
        [("level", "ascending"), ("metric", "ascending"), ("group", "ascending"), ("week", "ascending")]
    )


def structure(
    con: duckdb.DuckDBPyConnection,
    *,
    directory: Path | pa.Table | None,
    levels: Sequence[GroupLevel],
    first_day: dt.date,
    end_day: dt.date,
) -> pa.Table:
    """Which coarser group holds each group, for every pair of ``levels`` that can nest.

    Pairs come from directory rows valid in [first_day, end_day); a group with no such row takes
    the pairs of its rows at any time (its members then add nothing, so any parent is exact).
    """
    _check_levels(levels)
    con.register("dir", directory_table(directory))
    chain = [level for level in levels if level.value in _CHAIN]
    pairs: list[tuple[GroupLevel, GroupLevel]] = []
    if GroupLevel.ORGANISATION in levels:
        pairs += [
            (level, GroupLevel.ORGANISATION) for level in levels if level is not GroupLevel.ORGANISATION
        ]
    pairs += [(child, parent) for position, child in enumerate(chain) for parent in chain[:position]]
    if not pairs:
        return STRUCTURE_SCHEMA.empty_table()
    selects = [  # only GroupLevel values are spliced in
        f"""SELECT DISTINCT '{child.value}' AS level, k_{child.value} AS grp,
                   '{parent.value}' AS parent_level, k_{parent.value} AS parent_grp
            FROM keyed WHERE in_block OR k_{child.value} NOT IN (
                SELECT k_{child.value} FROM keyed WHERE in_block)"""  # noqa: S608
        for child, parent in pairs
    ]
    sql = _STRUCTURE_SQL.format(keys=keys_sql(levels), pairs="\nUNION ALL\n".join(selects))
    result = relation(con, sql, {"first_day": first_day, "end_day": end_day}).to_arrow_table()
    table = result.rename_columns(STRUCTURE_SCHEMA.names).cast(STRUCTURE_SCHEMA)
    return table.sort_by([(name, "ascending") for name in STRUCTURE_SCHEMA.names])


def groups(
    con: duckdb.DuckDBPyConnection, *, directory: Path | pa.Table | None, level: GroupLevel
) -> list[str]:
    """Every key of ``level`` the directory can give (its groups and hidden keys), sorted."""
    con.register("dir", directory_table(directory))
    return [row[0] for row in relation(con, _GROUPS_SQL.format(key=_key_sql(level.value))).fetchall()]
