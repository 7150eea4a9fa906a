"""The collaboration network in a release: measured with each block, derived into published cells.

A network report (``ReportKind.NETWORK``) has one network metric whose ``per_week`` is the bound
B. When ``services.release`` measures a block, ``measure_networks`` asks the store for the
block's clipped totals between every ordered pair of the level's groups (``store._collaboration``
clips each person's sending, then receiving, to B × weeks) and adds OpenDP noise calibrated to
Δ₁ = 3B (``privacy.network``); the noisy pairs are kept with the block's other measurements and
charged with it (``Strategy.block_cost`` includes each network's share).

``derive_network`` turns kept pairs into published cells, post-processing only: per window,
one cell per ordered pair (group ``"source → target"``) holding the weekly weight with its 95%
interval, in display units (hours for meeting time). A pair is released only when both of its
groups' noisy headcounts reach the comparison floor (``COMPARISON_FLOOR``, or the policy's
minimum group size when larger) in every headcount span of the window; cells come in
alphabetical order of the pair: the network is never a ranking.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import (
    COMPARISON_FLOOR,
    HEADCOUNT,
    HIDDEN_PREFIX,
    MEASUREMENT_SCHEMA,
    METRICS,
    GroupLevel,
    ReleasedCell,
    ReleasedTable,
    ReportDef,
    Rho,
    Window,
)
from teamlens.domain.metric_catalogue import NETWORK_KINDS
from teamlens.errors import ReleaseError
from teamlens.privacy import Block, ReleaseSpec, Strategy
from teamlens.privacy.network import (
    PAIR,
    Z95,
    as_kept,
    from_kept,
    measure_network,
    network_edges,
    plan_network,
)
from teamlens.services.workspace import Workspace

#: How released network tables describe their mechanism.
MECHANISM = (
    "discrete Gaussian (OpenDP) on totals between every ordered pair of groups per block, each "
    "person's sending and receiving clipped in L1 (sensitivity 3B), zero-concentrated DP, user-level"
)


def network_groups(groups: Sequence[str]) -> list[str]:
    """The groups a network is measured between: the directory's, without the hidden keys."""
    return sorted(group for group in groups if not group.startswith(HIDDEN_PREFIX))


def measure_networks(
    ws: Workspace, strategy: Strategy, block: Block, groups: Mapping[GroupLevel, Sequence[str]]
) -> pa.Table:
    """Every network of ``strategy`` measured in ``block`` (``MEASUREMENT_SCHEMA`` rows, noisy)."""
    tables = [MEASUREMENT_SCHEMA.empty_table()]
    exclude = ws.governance.excluded_persons(block.start) if strategy.network_plans else frozenset()
    for share in strategy.network_plans:
        listed = network_groups(groups[share.level])
        if not listed:
            continue
        rho = strategy.network_rho(share, block)
        plan = plan_network(share.level, share.per_week, block.n_weeks, len(listed), rho)
        totals = ws.store.network_block(
            level=share.level,
            weeks=block.weeks,
            kinds=NETWORK_KINDS[share.metric],
            bound=plan.bound,
            scale=plan.scale,
            exclude=exclude,
        )
        tables.append(as_kept(measure_network(plan, totals, listed), share.metric, block.start))
    return pa.concat_tables(tables)


def derive_network(
    strategy: Strategy,
    spec: ReleaseSpec,
    rows: pa.Table,
    *,
    release_id: str,
    released_at: dt.datetime,
    rho_charged: Rho,
) -> ReleasedTable:
    """The released table of a network ``spec`` from kept measurements (no cost; see the docstring)."""
    policy = strategy.policy
    (metric,) = spec.metrics
    divisor = METRICS[metric].display_divisor
    floor = max(COMPARISON_FLOOR, policy.min_group_size)
    cells: list[ReleasedCell] = []
    for window in spec.windows:
        blocks = _blocks(strategy, spec, window)
        kept = [_kept(rows, spec.level, metric, block) for block in blocks]
        if any(table.num_rows == 0 for table in kept):
            raise ReleaseError(
                f"report '{spec.report_id}': window {window.key} was measured under a policy version "
                f"without this network",
                "A block is measured once per period; release windows whose blocks were not measured yet.",
            )
        measured = pa.concat_tables(
            [from_kept(table, block.n_weeks) for table, block in zip(kept, blocks, strict=True)]
        )
        shown = _shown(strategy, spec.level, blocks, rows, floor)
        for edge in network_edges(measured, shown):
            cells.append(
                ReleasedCell(
                    group=f"{edge.source}{PAIR}{edge.target}",
                    window=window.key,
                    metric=metric,
                    value=edge.value / divisor,
                    lower=edge.lower / divisor,
                    upper=edge.upper / divisor,
                    total=edge.estimate / divisor,
                    sd_total=edge.sd / divisor,
                    clamped=edge.clamped,
                    uncertain=edge.uncertain,
                )
            )
    return spec.table(
        policy,
        cells,
        release_id=release_id,
        rho_charged=float(rho_charged),
        released_at=released_at,
        mechanism=MECHANISM,
    )


def _blocks(strategy: Strategy, spec: ReleaseSpec, window: Window) -> list[Block]:
    """The clipping blocks making up ``window`` (a network window is whole blocks: the policy checks)."""
    blocks = sorted({strategy.block_of(week) for week in window.weeks}, key=lambda block: block.start)
    if any(week not in window.weeks for block in blocks for week in block.weeks):
        raise ReleaseError(
            f"report '{spec.report_id}': window {window.key} is not made of whole clipping blocks",
            "A network is measured per clipping block; release it per block or longer.",
        )
    return blocks


def _kept(rows: pa.Table, level: GroupLevel, metric: str, block: Block) -> pa.Table:
    return rows.filter(
        (pc.field("level") == level.value)
        & (pc.field("metric") == metric)
        & (pc.field("week") == block.start)
    )


def _shown(
    strategy: Strategy, level: GroupLevel, blocks: Sequence[Block], rows: pa.Table, floor: int
) -> set[str]:
    """The groups whose noisy headcount reaches ``floor`` in every headcount span of ``blocks``."""
    shown: set[str] | None = None
    for first in sorted({strategy.span_of(block).first for block in blocks}, key=lambda block: block.start):
        counts = _kept(rows, level, HEADCOUNT, first).to_pylist()
        here = {
            row["group"]
            for row in counts
            if not row["group"].startswith(HIDDEN_PREFIX)
            and row["noisy"] / row["scale"] / first.n_weeks >= floor
        }
        shown = here if shown is None else shown & here
    return shown or set()


def edge_half_width(strategy: Strategy, report: ReportDef, groups: int) -> float:
    """The forecast 95% half-width of one edge's weekly weight in the report's first window.

    In display units (hours for meeting time), between ``groups`` groups: what the planner shows
    before anything is measured (the noise depends on the bound, the budget and the group count).
    """
    (metric,) = report.metrics
    share = next(
        plan for plan in strategy.network_plans if (plan.level, plan.metric) == (report.level, metric)
    )
    window = strategy.policy.windows(report.cadence)[0]
    blocks = _blocks(strategy, ReleaseSpec(report.report_id, report.level, (window,), report.metrics), window)
    variance = 0.0
    for block in blocks:
        plan = plan_network(
            share.level, share.per_week, block.n_weeks, max(groups, 1), strategy.network_rho(share, block)
        )
        variance += (plan.sigma / plan.scale) ** 2
    return float(Z95 * math.sqrt(variance) / len(window.weeks) / METRICS[metric].display_divisor)
