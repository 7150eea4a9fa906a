"""Run releases from the approved catalogue: measure what is missing, derive, publish, record.

A release of report windows needs the clipping blocks that hold their weeks (and the first
block of each headcount span they touch). Blocks not yet measured in this period are measured
now — clipped totals from the store, OpenDP noise from ``teamlens.privacy``, charged to the
ledger — and every published number is then derived from the kept measurements by
post-processing. A report's cells are kept as published: asking again returns them at no cost,
and a later release of another report never changes them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import HEADCOUNT, GroupLevel, Policy, ReleasedTable, ReportKind, Rho, Window
from teamlens.errors import ReleaseError
from teamlens.governance import BlockMeasurement
from teamlens.privacy import (
    Block,
    ReleaseSpec,
    Strategy,
    assemble,
    check_budget,
    measure_block,
    reconcile_block,
    reconcile_span,
)
from teamlens.privacy.spec import report_of
from teamlens.services.release_network import derive_network, measure_networks
from teamlens.services.workspace import BlockAggregator, ManyBlockAggregator, Workspace
from teamlens.store import BlockReader, MetricClip


def _nobody(day: dt.date) -> frozenset[str]:
    return frozenset()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def release(
    ws: Workspace,
    report_id: str,
    windows: Sequence[str],
    *,
    metrics: Sequence[str] | None = None,
    actor: str,
) -> ReleasedTable:
    """Release ``report_id`` for ``windows``: noisy team-level means, charged to the period's ledger.

    What the report published before comes back unchanged at no cost; a release that would
    overspend the budget is refused whole, before any data is read; a window whose clipping
    block has not ended yet is refused with the day it can be released.
    """
    active = ws.governance.require_active_policy("release statistics")
    policy = active.policy
    spec = ReleaseSpec.build(policy, report_id, windows, metrics)
    published = ws.governance.published_keys(policy.policy_id, policy.period_start, report_id)
    if {(window.key, name) for window in spec.windows for name in spec.metrics} <= published:
        return _published(ws, policy, spec, charged=Rho.zero())
    strategy = Strategy.for_policy(policy)
    blocks = strategy.blocks_for(spec.windows)
    _require_ended(spec, blocks)
    measured = ws.governance.measured_blocks(policy.policy_id, policy.period_start)
    ws.governance.check_books(
        policy.policy_id, policy.period_start, using=[block.key for block in blocks if block.key in measured]
    )
    missing = [block for block in blocks if block.key not in measured]
    cost = Rho(sum((strategy.block_cost(block).value for block in missing), Rho.zero().value))
    if missing:
        spent = ws.governance.spent(policy.policy_id, policy.period_start, policy.period_end)
        check_budget(policy.rho, spent, cost)
    fresh = _measure_all(ws, strategy, missing) if missing else []
    rows = pa.concat_tables(
        [
            ws.governance.measurements(
                policy.policy_id,
                policy.period_start,
                [block.key for block in blocks if block.key in measured],
            ),
            *(block.rows for block in fresh),
        ]
    )
    structures = {key: block.structure for key, block in measured.items()}
    structures.update({block.block_key: block.structure for block in fresh})
    release_id = f"r-{_now():%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    derived = derive(strategy, spec, rows, structures, release_id=release_id, rho_charged=cost)
    new_cells = [cell for cell in derived.cells if (cell.window, cell.metric) not in published]
    ws.governance.record_release(
        release_id=release_id,
        active=active,
        report_id=report_id,
        spec_key=spec.key,
        windows=sorted({window.key for window in spec.windows}),
        metrics=list(spec.metrics),
        rho=cost,
        blocks=fresh,
        cells=new_cells,
        actor=actor,
        total_budget=policy.rho,
    )
    return _published(ws, policy, spec, charged=cost, release_id=release_id)


def derive(
    strategy: Strategy,
    spec: ReleaseSpec,
    rows: pa.Table,
    structures: dict[str, pa.Table],
    *,
    release_id: str,
    rho_charged: Rho,
) -> ReleasedTable:
    """The released table of ``spec`` from kept measurements: reconcile, then assemble (no cost).

    Blocks are kept per policy period, whichever version measured them; one measured under an
    earlier version may lack a vector the active version's strategy has (a level or metric it
    added). Such a block cannot be measured again (one measurement per block and period), so
    the spec is derived from the vectors every block it needs holds, and refused with a
    ``ReleaseError`` when its own level, metric or headcount is among the missing.
    """
    if report_of(strategy.policy, spec.report_id).kind is ReportKind.NETWORK:  # hook: release_network
        return derive_network(
            strategy, spec, rows, release_id=release_id, released_at=_now(), rho_charged=rho_charged
        )
    weekly: dict[tuple[object, str], list[object]] = {}
    inside = sorted({strategy.block_of(week) for window in spec.windows for week in window.weeks}, key=_start)
    strategy = _recorded_part(strategy, spec, inside, rows)
    for block in inside:
        for key, series in reconcile_block(strategy, block, rows, structures[block.key]).items():
            weekly.setdefault(key, []).append(series)
    headcounts = {}
    for span in {strategy.span_of(block) for block in inside}:
        headcounts[span.key] = reconcile_span(strategy, span, rows, structures[span.first.key])
    return assemble(
        strategy,
        spec,
        weekly,  # type: ignore[arg-type]
        headcounts,
        release_id=release_id,
        released_at=_now(),
        rho_charged=rho_charged,
    )


def _recorded_part(
    strategy: Strategy, spec: ReleaseSpec, inside: Sequence[Block], rows: pa.Table
) -> Strategy:
    """``strategy`` cut down to the vectors recorded in every block ``spec`` needs (see ``derive``)."""
    firsts = {strategy.span_of(block).first for block in inside}
    recorded = {block.key: _vectors(rows, block) for block in {*inside, *firsts}}
    plans = tuple(
        plan
        for plan in strategy.metric_plans
        if all((plan.level.value, plan.metric) in recorded[block.key] for block in inside)
    )
    levels = tuple(
        level
        for level in strategy.levels
        if all((level.value, HEADCOUNT) in recorded[block.key] for block in firsts)
    )
    kept = {(plan.level, plan.metric) for plan in plans}
    lacking = [name for name in spec.metrics if (spec.level, name) not in kept]
    if spec.level not in levels:
        lacking.append(HEADCOUNT)
    if lacking:
        blocks = sorted(
            key
            for key, found in recorded.items()
            if any((spec.level.value, name) not in found for name in lacking)
        )
        raise ReleaseError(
            f"report '{spec.report_id}': clipping block(s) {', '.join(blocks)} of this period were "
            f"measured under an earlier version of policy '{strategy.policy.policy_id}', which did not "
            f"measure {', '.join(lacking)} at level '{spec.level.value}'",
            "A block is measured once per period, so these windows cannot be released at this level; "
            "release windows whose blocks have not been measured yet, or keep the catalogue's levels "
            "and metrics unchanged within a period.",
        )
    if len(plans) == len(strategy.metric_plans) and len(levels) == len(strategy.levels):
        return strategy
    headcounts = tuple(plan for plan in strategy.headcount_plans if plan.level in levels)
    plans = tuple(plan for plan in plans if plan.level in levels)
    return replace(strategy, levels=levels, metric_plans=plans, headcount_plans=headcounts)


def _vectors(rows: pa.Table, block: Block) -> set[tuple[str, str]]:
    """The (level, metric) pairs recorded in ``rows`` for weeks of ``block``."""
    inside = rows.filter((pc.field("week") >= block.start) & (pc.field("week") < block.end))
    pairs = inside.group_by(["level", "metric"]).aggregate([])
    return set(zip(pairs["level"].to_pylist(), pairs["metric"].to_pylist(), strict=True))


def _start(block: Block) -> dt.date:
    return block.start


def _require_ended(spec: ReleaseSpec, blocks: Sequence[Block]) -> None:
    today = dt.datetime.now(dt.UTC).date()
    open_blocks = [block for block in blocks if block.end > today]
    if open_blocks:
        block = open_blocks[-1]
        raise ReleaseError(
            f"report '{spec.report_id}': its windows are measured with clipping block '{block.key}' "
            f"(weeks of {block.start.isoformat()} to {block.end.isoformat()}), which has not ended yet",
            f"Release these windows from {block.end.isoformat()}: each person's weeks in a block are "
            "clipped together, so a block is measured once, when it is complete.",
        )


def _measure(ws: Workspace, strategy: Strategy, block: Block) -> BlockMeasurement:
    """Aggregate one block in the store and add OpenDP noise to every base vector."""
    (measured,) = _measure_all(ws, strategy, [block])
    return measured


def _measure_all(ws: Workspace, strategy: Strategy, blocks: Sequence[Block]) -> list[BlockMeasurement]:
    """Aggregate ``blocks`` from one store snapshot and add OpenDP noise to every base vector.

    TEAMLENS_ENGINE=spark: Spark computes the same totals (teamlens.spark); the chart stays DuckDB's.
    """
    with ws.store.block_reader() as reader:
        aggregator = reader if ws.settings.engine == "duckdb" else _on_spark(ws, strategy, blocks)
        measured = measure_blocks(
            strategy, blocks, reader, aggregator=aggregator, excluded=ws.governance.excluded_persons
        )
        if not strategy.network_plans:
            return measured
        groups = {level: reader.groups(level.value) for level in strategy.levels}
    # hook: each block's networks (release_network), kept and charged with its other measurements
    return [
        replace(block, rows=pa.concat_tables([block.rows, measure_networks(ws, strategy, of, groups)]))
        for block, of in zip(measured, blocks, strict=True)
    ]


def _clips(strategy: Strategy, block: Block) -> dict[str, MetricClip]:
    """How each metric is clipped in ``block``: L2 bound ``per_week·√weeks``, the plan's fixed-point scale."""
    return {
        plan.metric: MetricClip(plan.per_week * block.n_weeks**0.5, plan.scale)
        for plan in strategy.metric_plans
    }


class _Computed:
    """Blocks' totals computed before ``measure_blocks`` asks for them, handed out block by block."""

    def __init__(self, tables: Mapping[tuple[dt.date, ...], pa.Table]) -> None:
        self.tables = dict(tables)

    def aggregate_block(
        self,
        *,
        levels: Sequence[str],
        weeks: Sequence[dt.date],
        clips: Mapping[str, MetricClip],
        headcount: bool,
        exclude: Collection[str] = (),
    ) -> pa.Table:
        """The table computed for the block of ``weeks`` (asked with the same bounds and objectors)."""
        return self.tables.pop(tuple(weeks))


def _on_spark(ws: Workspace, strategy: Strategy, blocks: Sequence[Block]) -> BlockAggregator:
    """TEAMLENS_ENGINE=spark: every block's totals from one Spark job (a job per block costs ~20 s each)."""
    aggregator = ws.aggregator
    if not isinstance(aggregator, ManyBlockAggregator):
        return aggregator
    from teamlens.spark import BlockQuery  # the optional teamlens[spark], there when its aggregator is

    queries = [
        BlockQuery(
            weeks=block.weeks,
            clips=_clips(strategy, block),
            headcount=strategy.span_of(block).first == block,
            exclude=ws.governance.excluded_persons(block.start),
        )
        for block in blocks
    ]
    tables = aggregator.aggregate_blocks(levels=[level.value for level in strategy.levels], blocks=queries)
    return _Computed({tuple(block.weeks): table for block, table in zip(blocks, tables, strict=True)})


def measure_blocks(
    strategy: Strategy,
    blocks: Sequence[Block],
    reader: BlockReader,
    *,
    aggregator: BlockAggregator | None = None,
    excluded: Callable[[dt.date], Collection[str]] = _nobody,
) -> list[BlockMeasurement]:
    """Measure ``blocks`` in order: each block's clipped totals, chart and OpenDP noise.

    Totals come from ``aggregator`` (the reader's DuckDB by default), leaving out the people
    ``excluded(block.start)`` names. Each block's noise is drawn on a worker thread while the
    store aggregates the next block (DuckDB and OpenDP both work without holding the GIL), one
    block after another in order, so the draws are the ones a loop would make.
    """
    source = aggregator or reader
    groups = {level: reader.groups(level.value) for level in strategy.levels}
    levels = [level.value for level in strategy.levels]
    pending: list[Future[BlockMeasurement]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="release-noise") as noising:
        for block in blocks:
            if pending and pending[-1].done() and pending[-1].exception():
                break  # the noise of a block failed: no need to aggregate the rest
            clips = _clips(strategy, block)
            opens = strategy.span_of(block).first == block
            aggregates = source.aggregate_block(
                levels=levels, weeks=block.weeks, clips=clips, headcount=opens, exclude=excluded(block.start)
            )
            chart = reader.structure(levels=levels, first_day=block.start, end_day=block.end)
            pending.append(noising.submit(_noised_block, strategy, block, aggregates, chart, groups))
        return [future.result() for future in pending]


def _noised_block(
    strategy: Strategy,
    block: Block,
    aggregates: pa.Table,
    chart: pa.Table,
    groups: Mapping[GroupLevel, Sequence[str]],
) -> BlockMeasurement:
    wanted = {f"{plan.level.value}\x1e{plan.metric}" for plan in strategy.metric_plans}
    keys = pc.binary_join_element_wise(aggregates["level"], aggregates["metric"], "\x1e")
    keep = pc.or_(
        pc.is_in(keys, value_set=pa.array(sorted(wanted))), pc.equal(aggregates["metric"], HEADCOUNT)
    )
    rows = measure_block(strategy, block, aggregates.filter(keep), groups)
    span = strategy.span_of(block)
    opens = span.first == block
    return BlockMeasurement(block.key, span.key if opens else None, chart, rows, strategy.block_cost(block))


def _published(
    ws: Workspace, policy: Policy, spec: ReleaseSpec, *, charged: Rho, release_id: str | None = None
) -> ReleasedTable:
    """The spec's cells exactly as the report published them."""
    kept = ws.governance.published_cells(
        policy.policy_id, policy.period_start, spec.report_id, [window.key for window in spec.windows]
    )
    cells = [(cell, by) for cell, by in kept if cell.metric in spec.metrics]
    named = release_id or max((by for _, by in cells), default="none")
    recorded = {info.release_id: info.released_at for info in ws.governance.releases(policy.policy_id)}
    return spec.table(
        policy,
        [cell for cell, _ in cells],
        release_id=named,
        rho_charged=float(charged),
        released_at=recorded.get(named, _now()),  # a repeat shows when its release was made, not asked
        published_by=tuple(sorted({by for _, by in cells})),
        repeated=release_id is None,
    )


def releasable_windows(policy: Policy, through: dt.date) -> dict[str, list[str]]:
    """Per report, the windows whose clipping blocks (and span openers) have all ended by ``through``."""
    strategy = Strategy.for_policy(policy)
    found: dict[str, list[str]] = {}
    for report in policy.reports:
        ready = [
            window.key
            for window in policy.windows(report.cadence)
            if all(block.end <= through for block in strategy.blocks_for([window]))
        ]
        if ready:
            found[report.report_id] = ready
    return found


def release_standard_reports(
    ws: Workspace, *, actor: str, through: dt.date | None = None
) -> list[ReleasedTable]:
    """Release every catalogue report for every window whose blocks have ended by ``through``."""
    policy = ws.governance.require_active_policy("release statistics").policy
    cutoff = min(through or dt.date.today(), dt.datetime.now(dt.UTC).date())
    return [
        release(ws, report_id, windows, actor=actor)
        for report_id, windows in releasable_windows(policy, cutoff).items()
    ]


def released_tables(ws: Workspace) -> tuple[Policy, list[ReleasedTable]]:
    """Everything published so far under the active policy, from what was kept, at no cost."""
    policy = ws.governance.require_active_policy("show released statistics").policy
    tables = []
    for report in policy.reports:
        keys = ws.governance.published_keys(policy.policy_id, policy.period_start, report.report_id)
        windows = sorted({window for window, _ in keys})
        metrics = sorted({name for _, name in keys})
        if not windows:
            continue
        spec = ReleaseSpec.build(policy, report.report_id, [Window.parse(key) for key in windows], metrics)
        tables.append(_published(ws, policy, spec, charged=Rho.zero()))
    return policy, tables


def tables_as_json(policy: Policy, tables: list[ReleasedTable]) -> dict[str, object]:
    """Released tables as plain JSON-ready data: cells with intervals, never a true headcount."""
    return {
        "policy": {
            "id": policy.policy_id,
            "version": policy.version,
            "min_group_size": policy.min_group_size,
        },
        "reports": [
            {
                "report_id": table.report_id,
                "release_id": table.release_id,
                "level": table.level,
                "windows": list(table.windows),
                "metrics": list(table.metrics),
                "mechanism": table.mechanism,
                "cells": [
                    {
                        "group": cell.group,
                        "window": cell.window,
                        "metric": cell.metric,
                        "value": cell.value,
                        "lower": cell.lower,
                        "upper": cell.upper,
                        "suppressed": cell.suppressed,
                        "uncertain": cell.uncertain,
                        "clamped": cell.clamped,
                        "total": cell.total,
                        "person_weeks": cell.person_weeks,
                        "sd_total": cell.sd_total,
                        "sd_person_weeks": cell.sd_person_weeks,
                    }
                    for cell in table.cells
                ],
            }
            for table in tables
        ],
    }
