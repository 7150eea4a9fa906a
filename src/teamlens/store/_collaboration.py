"""Collaboration edges: who (pseudonym) sent to, or met, whom (pseudonym), and the network query.

A fact kind of its own, because a person-period fact (``FACT_SCHEMA``) keeps counts, not
partners: an **edge row** (``EDGE_SCHEMA``) is one person's own activity towards one partner on
one day — a message they sent, split evenly over its recipients, or their share of a meeting
they attended (its minutes split evenly over the other attendees) — with both ends pseudonymised
as everywhere else. Nothing per partner ever leaves the store: ``network_block`` turns a
block's rows into clipped fixed-point totals per ordered pair of groups, and that is all the
privacy engine sees (``privacy.network``, whose docstring gives the sensitivity).

The query, for one clipping block and one level:

1. each actor's rows are scaled down together when their sum exceeds ``B`` (= per-week bound ×
   weeks in the block): what one person sends is bounded in L1 across all edges;
2. the rows towards each partner are then scaled down together when their sum exceeds ``B``;
3. both ends are placed by the directory row valid on the row's week's Monday; rows with an end
   it does not place at this level are dropped (after clipping, so placement never changes
   anyone's scaling);
4. per (source group, target group) the sum, scaled to fixed-point units and floored.

Inputs reach DuckDB as registered Arrow tables and values as parameters; nothing is spliced into
SQL but the fixed level names of ``GroupLevel``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import DIRECTORY_SCHEMA, EDGE_SCHEMA, GroupLevel
from teamlens.errors import InternalError
from teamlens.store._duck import read_table, relation, write_parquet
from teamlens.store._transaction import Transaction

#: Clipped fixed-point totals per ordered pair of groups for one block: what the engine noises.
NETWORK_AGGREGATE_SCHEMA = pa.schema(
    [
        pa.field("level", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("target", pa.string(), nullable=False),
        pa.field("total", pa.int64(), nullable=False),
    ]
)

#: Scaling stays a hair inside the bound so that float rounding can never push a sum past it.
_MARGIN = 1e-12
#: An ingestion's view of one person's day of one kind of activity: what a later one replaces.
_DAY_KEY = ("person", "day", "source")
_LEVELS = (GroupLevel.DIVISION, GroupLevel.DEPARTMENT, GroupLevel.TEAM, GroupLevel.LOCATION)

_NETWORK_SQL = """
WITH
rows AS (
    SELECT person, partner, day - CAST(isodow(day) - 1 AS INTEGER) AS week, greatest(weight, 0) AS w
    FROM edges
    WHERE day >= $first_day AND day < $end_day AND weight > 0 AND person <> partner
),
sent AS (SELECT person, sum(w) AS s FROM rows GROUP BY person),
out_clipped AS (
    SELECT r.person, r.partner, r.week,
           CASE WHEN s.s <= $bound THEN r.w ELSE r.w * ($bound / s.s) * (1 - $margin) END AS w
    FROM rows AS r JOIN sent AS s USING (person)
),
received AS (SELECT partner, sum(w) AS s FROM out_clipped GROUP BY partner),
in_clipped AS (
    SELECT o.person, o.partner, o.week,
           CASE WHEN r.s <= $bound THEN o.w ELSE o.w * ($bound / r.s) * (1 - $margin) END AS w
    FROM out_clipped AS o JOIN received AS r USING (partner)
),
placed AS (
    SELECT wk.week, d.person, d.{level} AS grp,
           row_number() OVER (PARTITION BY wk.week, d.person ORDER BY d.valid_from DESC) AS pick
    FROM block_weeks AS wk
    JOIN dir AS d ON d.valid_from <= wk.week AND (d.valid_to IS NULL OR wk.week < d.valid_to)
)
SELECT $level AS level, a.grp AS source, b.grp AS target,
       CAST(floor(sum(c.w) * $scale) AS BIGINT) AS total
FROM in_clipped AS c
JOIN placed AS a ON a.pick = 1 AND a.person = c.person AND a.week = c.week AND a.grp IS NOT NULL
JOIN placed AS b ON b.pick = 1 AND b.person = c.partner AND b.week = c.week AND b.grp IS NOT NULL
GROUP BY a.grp, b.grp
ORDER BY source, target
"""


def network_block(
    edges: pa.Table,
    directory: pa.Table,
    *,
    level: GroupLevel,
    weeks: Sequence[dt.date],
    bound: float,
    scale: int,
) -> pa.Table:
    """Clipped fixed-point totals per ordered pair of ``level``'s groups over ``weeks`` (one block).

    ``edges`` follow ``EDGE_SCHEMA`` and ``directory`` ``DIRECTORY_SCHEMA``; ``bound`` is B, what
    one person may send, and receive, in the block (in the edges' unit); ``scale`` the
    fixed-point units per unit. Returns ``NETWORK_AGGREGATE_SCHEMA`` rows, never a row per person.
    """
    if level not in _LEVELS:
        raise InternalError(f"the network is measured between groups of a level, not '{level.value}'")
    if not weeks or bound <= 0 or scale < 1:
        raise InternalError("a network block needs weeks, a positive bound and a fixed-point scale")
    connection = duckdb.connect()
    try:
        connection.register("edges", edges.select(EDGE_SCHEMA.names).cast(EDGE_SCHEMA))
        connection.register("dir", directory.select(DIRECTORY_SCHEMA.names).cast(DIRECTORY_SCHEMA))
        connection.register("block_weeks", pa.table({"week": pa.array(sorted(weeks), pa.date32())}))
        result = relation(
            connection,
            _NETWORK_SQL.format(level=level.value),  # a GroupLevel value, checked above
            {
                "first_day": min(weeks),
                "end_day": max(weeks) + dt.timedelta(days=7),
                "bound": float(bound),
                "margin": _MARGIN,
                "scale": scale,
                "level": level.value,
            },
        ).to_arrow_table()
    finally:
        connection.close()
    return result.cast(NETWORK_AGGREGATE_SCHEMA)


# -- keeping edge rows: one Parquet file per month, changed only inside a store transaction ----------


def month_key(day: dt.date) -> str:
    """The month an edge row of ``day`` is kept in ("2026-03")."""
    return f"{day.year:04d}-{day.month:02d}"


def by_month(edges: pa.Table) -> dict[str, pa.Table]:
    """``edges`` (``EDGE_SCHEMA``) cut by the month of their day."""
    table = edges.select(EDGE_SCHEMA.names).cast(EDGE_SCHEMA)
    months = pa.array([month_key(day) for day in table.column("day").to_pylist()], pa.string())
    return {str(month): table.filter(pc.equal(months, month)) for month in pc.unique(months).to_pylist()}


def upserted(current: pa.Table | None, incoming: pa.Table) -> pa.Table:
    """``current`` with ``incoming`` upserted: an ingestion's view of a person's day of one kind
    (``person``, ``day``, ``source``) replaces every stored row of it, as facts replace facts."""
    if current is None or current.num_rows == 0:
        return incoming
    keys = incoming.select(list(_DAY_KEY)).group_by(list(_DAY_KEY)).aggregate([])
    kept = current.join(keys, keys=list(_DAY_KEY), join_type="left anti")
    return pa.concat_tables([kept.select(EDGE_SCHEMA.names).cast(EDGE_SCHEMA), incoming])


def without(table: pa.Table, person: str) -> pa.Table:
    """The rows of ``table`` that name ``person`` at neither end (erasure: their partner rows go too)."""
    return table.filter(
        pc.and_(pc.not_equal(table["person"], person), pc.not_equal(table["partner"], person))
    )


def unexpired(table: pa.Table, cutoff: dt.date, ranges: Sequence[tuple[dt.date, dt.date]]) -> pa.Table:
    """The rows of ``table`` neither past retention (before ``cutoff``) nor in a released range."""
    day = table["day"]
    keep = pc.greater_equal(day, pa.scalar(cutoff, pa.date32()))
    for start, end in ranges:
        inside = pc.and_(
            pc.greater_equal(day, pa.scalar(start, pa.date32())), pc.less(day, pa.scalar(end, pa.date32()))
        )
        keep = pc.and_(keep, pc.invert(inside))
    return table.filter(keep)


def read_edges(path: Path) -> pa.Table:
    """One month's edge file as an ``EDGE_SCHEMA`` table."""
    return read_table(path, columns=EDGE_SCHEMA.names).cast(EDGE_SCHEMA)


def write_edges(table: pa.Table, out: Path) -> int:
    """Write one month's edge rows, sorted, to ``out`` (under a temp name, flushed, renamed)."""
    ordered = table.sort_by([(name, "ascending") for name in ("person", "day", "partner", "source")])
    return write_parquet(
        pa.RecordBatchReader.from_batches(EDGE_SCHEMA, ordered.to_batches()), out, EDGE_SCHEMA
    )


def block_edges(files: Sequence[Path], weeks: Sequence[dt.date], exclude: Collection[str]) -> pa.Table:
    """The edge rows of the months ``weeks`` touch, objectors (``exclude``) removed at both ends."""
    first, end = min(weeks), max(weeks) + dt.timedelta(days=7)
    tables = [read_edges(path) for path in files]
    table = pa.concat_tables(tables) if tables else EDGE_SCHEMA.empty_table()
    day = table["day"]
    inside = pc.and_(
        pc.greater_equal(day, pa.scalar(first, pa.date32())), pc.less(day, pa.scalar(end, pa.date32()))
    )
    if exclude:
        gone = pa.array(sorted(exclude), pa.string())
        inside = pc.and_(
            inside, pc.invert(pc.or_(pc.is_in(table["person"], gone), pc.is_in(table["partner"], gone)))
        )
    return table.filter(inside)


def months_of(weeks: Sequence[dt.date]) -> set[str]:
    """The months the days of ``weeks`` fall in."""
    return {month_key(week + dt.timedelta(days=offset)) for week in weeks for offset in (0, 6)}


def upsert(root: Path, tx: Transaction, edges: pa.Table) -> None:
    """Upsert ``edges`` into the months they touch, as new files of ``tx``'s generation."""
    for month, incoming in sorted(by_month(edges).items()):
        current = tx.base.edges.get(month)
        stored = None if current is None else read_edges(root / current)
        write_edges(upserted(stored, incoming), tx.new_edges_file(month))


def keep(root: Path, tx: Transaction, kept_of: Callable[[pa.Table], pa.Table]) -> int:
    """Rewrite, in ``tx``, the edge months where ``kept_of`` drops rows; returns how many were dropped."""
    dropped = 0
    for month, relative in sorted(tx.base.edges.items()):
        table = read_edges(root / relative)
        kept = kept_of(table)
        if kept.num_rows == table.num_rows:
            continue
        dropped += table.num_rows - kept.num_rows
        if kept.num_rows:
            write_edges(kept, tx.new_edges_file(month))
        else:
            tx.drop_edges(month)
    return dropped


def own_summary(tables: Sequence[pa.Table], person: str) -> list[dict[str, object]]:
    """``person``'s own rows per day and kind: colleagues counted, weight summed; never whom."""
    if not tables:
        return []
    table = pa.concat_tables(tables)
    mine = table.filter(pc.equal(table["person"], person))
    summary = mine.group_by(["day", "source"]).aggregate([("partner", "count_distinct"), ("weight", "sum")])
    rows: list[dict[str, object]] = [
        {
            "day": row["day"],
            "kind": row["source"],
            "colleagues": row["partner_count_distinct"],
            "weight": row["weight_sum"],
        }
        for row in summary.to_pylist()
    ]
    return sorted(rows, key=lambda row: (str(row["day"]), str(row["kind"])))
