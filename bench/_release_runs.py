"""The three measured releases of the release benchmark, each run alone in a fresh interpreter.

- ``time_baseline``: one plain DuckDB query (default settings) over the store's Parquet files
  that does the work of a release without noise: per person, window and metric the sum of the
  daily facts, clipped to the bound; the person's team at the window start from the directory;
  per team, window and metric the sum of the clipped values, plus a headcount.
- ``time_teamlens``: the release engine for every window of the report — the policy's strategy,
  ``FactStore.aggregate_block`` and ``measure_block`` per clipping block, ``derive``.
- ``time_opendp``: the same release with OpenDP's Polars API. DuckDB first reduces the facts to
  one row per person and window (unclipped sums of the five metrics, the team at the window
  start; its time is part of the figure), then OpenDP clips, sums, counts and adds discrete
  Gaussian noise per team and window.

Each returns a dict of floats, among them wall-clock ``seconds`` and ``cpu_seconds`` (every
thread of the process: less moved by other work on a shared machine than the wall clock);
``bench._measure.in_subprocess`` adds the peak memory.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from bench._release_data import METRICS, REPORT_ID, Size, build_policy, report_windows
from teamlens.domain import Policy, Rho, Window

# Everything below is built from constants and registered Arrow tables; no value is spliced in.
_BASELINE_SQL = """
WITH
sums AS (
    SELECT w.win, f.person, f.metric, sum(f.value) AS v
    FROM facts AS f
    JOIN win_weeks AS w ON w.monday = f.day - CAST(isodow(f.day) - 1 AS INTEGER)
    GROUP BY w.win, f.person, f.metric
),
placed AS (
    SELECT s.win, d.person, d.team
    FROM win_starts AS s
    JOIN dir AS d ON d.valid_from <= s.start AND (d.valid_to IS NULL OR s.start < d.valid_to)
)
SELECT p.team, p.win, s.metric, CAST(sum(least(s.v, b.bound)) AS BIGINT) AS total
FROM sums AS s
JOIN placed AS p ON p.win = s.win AND p.person = s.person
JOIN win_bounds AS b ON b.win = s.win AND b.metric = s.metric
GROUP BY p.team, p.win, s.metric
UNION ALL
SELECT team, win, 'headcount', count(*) FROM placed GROUP BY team, win
"""

_PERSON_WINDOWS_SQL = """
WITH
sums AS (
    SELECT w.win, f.person, {pivot}
    FROM facts AS f
    JOIN win_weeks AS w ON w.monday = f.day - CAST(isodow(f.day) - 1 AS INTEGER)
    GROUP BY w.win, f.person
)
SELECT d.team, s.win AS "window", s.n_weeks, {columns}
FROM win_starts AS s
JOIN dir AS d ON d.valid_from <= s.start AND (d.valid_to IS NULL OR s.start < d.valid_to)
LEFT JOIN sums AS m ON m.win = s.win AND m.person = d.person
""".format(
    pivot=", ".join(
        f"CAST(sum(f.value) FILTER (WHERE f.metric = '{name}') AS BIGINT) AS {name}" for name in METRICS
    ),
    columns=", ".join(f"m.{name}" for name in METRICS),
)


def store_files(root: Path) -> tuple[list[str], str]:
    """The current month files and directory file of the store at ``root``, from its manifest."""
    manifest = json.loads((root / "manifest.json").read_text())
    months = [str(root / path) for _, path in sorted(manifest["months"].items())]
    return months, str(root / manifest["directory"])


def window_tables(policy: Policy, windows: tuple[Window, ...]) -> dict[str, pa.Table]:
    """The windows as small Arrow tables: their Mondays, their start and length, their bounds."""
    return {
        "win_weeks": pa.table(
            {
                "win": [window.key for window in windows for _ in window.weeks],
                "monday": pa.array([monday for window in windows for monday in window.weeks], pa.date32()),
            }
        ),
        "win_starts": pa.table(
            {
                "win": [window.key for window in windows],
                "start": pa.array([window.start for window in windows], pa.date32()),
                "n_weeks": pa.array([window.n_weeks for window in windows], pa.int32()),
            }
        ),
        "win_bounds": pa.table(
            {
                "win": [window.key for window in windows for _ in METRICS],
                "metric": [name for _ in windows for name in METRICS],
                "bound": pa.array(
                    [policy.metric_bound(name).bound_for(window) for window in windows for name in METRICS],
                    pa.int64(),
                ),
            }
        ),
    }


def _connect(root: Path, policy: Policy) -> duckdb.DuckDBPyConnection:
    """A default DuckDB connection with the facts, the directory and the window tables in view."""
    con = duckdb.connect()
    months, directory = store_files(root)
    con.read_parquet(months).create_view("facts")
    con.read_parquet(directory).create_view("dir")
    for name, table in window_tables(policy, report_windows(policy)).items():
        con.register(name, table)
    return con


def time_baseline(root: str, people: int, days: int) -> dict[str, float]:
    """Baseline: clipped per-team totals and headcounts for every window, in one DuckDB query, no noise."""
    began, cpu = time.perf_counter(), time.process_time()
    con = _connect(Path(root), build_policy(Size(people, days)))
    table = con.sql(_BASELINE_SQL).to_arrow_table()
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "cpu_seconds": time.process_time() - cpu, "rows": table.num_rows}


class _Timed:
    """A block aggregator that adds up the seconds spent in the store's ``aggregate_block``."""

    def __init__(self, reader: Any) -> None:
        self.reader, self.seconds = reader, 0.0

    def aggregate_block(self, **arguments: Any) -> pa.Table:
        started = time.perf_counter()
        table: pa.Table = self.reader.aggregate_block(**arguments)
        self.seconds += time.perf_counter() - started
        return table


def time_teamlens(root: str, people: int, days: int) -> dict[str, float]:
    """teamlens: the release engine for every window of the report, without governance.

    As ``services.release`` does it: the policy's strategy, then ``measure_blocks`` through one
    ``FactStore.block_reader()`` (per clipping block the store's ``aggregate_block``: weekly
    placement, L2 clipping per person and block, the span headcount; the block's chart; and
    OpenDP's noise on every base vector, drawn while the next block is aggregated), and
    finally ``derive`` (least squares, span headcounts, intervals, suppression) for all windows.
    """
    from teamlens.privacy import ReleaseSpec, Strategy
    from teamlens.services.release import derive, measure_blocks
    from teamlens.store import FactStore

    began, cpu = time.perf_counter(), time.process_time()
    policy = build_policy(Size(people, days))
    store = FactStore(Path(root))
    spec = ReleaseSpec.build(policy, REPORT_ID, [window.key for window in report_windows(policy)])
    strategy = Strategy.for_policy(policy)
    blocks = strategy.blocks_for(spec.windows)
    with store.block_reader() as reader:
        timed = _Timed(reader)
        started = time.perf_counter()
        measured = measure_blocks(strategy, blocks, reader, aggregator=timed)
        measure_seconds = time.perf_counter() - started
    cost = sum((strategy.block_cost(block).value for block in blocks), Fraction(0))
    started = time.perf_counter()
    table = derive(
        strategy,
        spec,
        pa.concat_tables([block.rows for block in measured]),
        {block.block_key: block.structure for block in measured},
        release_id="bench",
        rho_charged=Rho(cost),
    )
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "aggregate_seconds": timed.seconds,
        "measure_seconds": measure_seconds,
        "derive_seconds": seconds - (started - began),
        "cells": len(table.cells),
    }


def window_classes(policy: Policy) -> dict[int, list[Window]]:
    """The report's windows by length in weeks: each length has its own clipping bound."""
    classes: dict[int, list[Window]] = defaultdict(list)
    for window in report_windows(policy):
        classes[window.n_weeks].append(window)
    return dict(sorted(classes.items()))


def _opendp() -> Any:
    """OpenDP's prelude with its contributed (Polars) features on; typed Any as OpenDP ships no stubs."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


def _opendp_query(
    frame: Any, policy: Policy, n_weeks: int, n_windows: int, rho: Fraction, people: int
) -> Any:
    """The OpenDP query for the windows of one length: clipped noisy sums and a noisy count per team.

    Each person has one row per window and one window per group, in ``n_windows`` groups: the
    privacy unit says so, and OpenDP derives the L2 sensitivity (bound × √n_windows) from it.
    ``people`` bounds a group's length (public: no team is larger than the organisation).
    """
    import polars as pl

    dp = _opendp()
    by = ["team", "window"]
    context = dp.Context.compositor(
        data=frame.lazy(),
        privacy_unit=dp.unit_of(
            contributions=[dp.polars.Bound(by=by, per_group=1), dp.polars.Bound(by=by, num_groups=n_windows)]
        ),
        privacy_loss=dp.loss_of(rho=float(rho)),
        split_evenly_over=1,
        margins=[dp.polars.Margin(by=by, invariant="keys", max_length=people)],
    )
    sums = []
    for name in METRICS:
        column: Any = pl.col(name).fill_null(0)  # the `dp` namespace is a Polars plugin: untyped
        sums.append(column.dp.sum((0, policy.metric_bound(name).per_week * n_weeks)))
    return context.query().group_by(*by).agg(*sums, dp.len(signed=True))


def time_opendp(root: str, people: int, days: int) -> dict[str, float]:
    """Peer: DuckDB reduces facts to person × window rows, then OpenDP's Polars API releases them."""
    import polars as pl

    began, cpu = time.perf_counter(), time.process_time()
    policy = build_policy(Size(people, days))
    con = _connect(Path(root), policy)
    frame = pl.from_arrow(con.sql(_PERSON_WINDOWS_SQL).to_arrow_table())
    con.close()
    if not isinstance(frame, pl.DataFrame):
        raise TypeError("the person × window rows did not come back as a table")
    prepared = time.perf_counter() - began
    classes = window_classes(policy)
    n_all = sum(len(windows) for windows in classes.values())
    share = policy.report(REPORT_ID).budget_share
    queries = {}
    rows = 0
    for n_weeks, windows in classes.items():
        # Windows of one length form one query; the budget is split in proportion to windows,
        # which gives every (window, metric) cell the same ρ as teamlens gives it.
        part = frame.filter(pl.col("n_weeks") == n_weeks).drop("n_weeks")
        rho = policy.rho.value * share * len(windows) / n_all
        queries[n_weeks] = _opendp_query(part, policy, n_weeks, len(windows), rho, people)
        rows += queries[n_weeks].release().collect().height
    seconds = time.perf_counter() - began
    result: dict[str, float] = {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "prepare_seconds": prepared,
        "rows": rows,
    }
    result.update(_scales(queries))
    return result


def _scales(queries: dict[int, Any]) -> dict[str, float]:
    """OpenDP's noise scale of every aggregate (``scale:<weeks>:<column>``), to check against teamlens.

    Also ``resolve_seconds``: how long OpenDP takes to calibrate one query (the first).
    """
    began = time.perf_counter()
    next(iter(queries.values())).resolve()
    scales = {"resolve_seconds": time.perf_counter() - began}
    for n_weeks, query in queries.items():
        summary = query.summarize()
        for column, scale in zip(summary["column"], summary["scale"], strict=True):
            scales[f"scale:{n_weeks}:{column}"] = float(scale)
    return scales
