"""From noisy base measurements to consistent weekly totals and span headcounts, with variances.

Post-processing only: the measurements of one clipping block (every measured level, every
metric) are reconciled across nested levels by least squares (``hierarchy``), week by week,
using the organisation chart recorded with the block; each span's headcounts likewise. The
variances are those of the reconciled estimates, so intervals built from them are honest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import HEADCOUNT, MEASUREMENT_SCHEMA, STRUCTURE_SCHEMA, GroupLevel
from teamlens.errors import InternalError
from teamlens.privacy.hierarchy import FloatArray, IntArray, Node, reconcile
from teamlens.privacy.strategy import CHAIN, Block, Span, Strategy


@dataclass(frozen=True)
class Series:
    """One level's consistent values: a row per group, a column per week (one column for headcounts).

    ``values`` are in the measurement's units (fixed-point units for totals, person-weeks for
    headcounts); ``variances`` hold each group's variance (the same in every column).
    """

    groups: tuple[str, ...]
    weeks: tuple[dt.date, ...]
    values: IntArray
    variances: FloatArray
    scale: int

    @cached_property
    def rows(self) -> dict[str, int]:
        """The row of each group."""
        return {group: index for index, group in enumerate(self.groups)}


def parent_level(strategy: Strategy, level: GroupLevel) -> GroupLevel | None:
    """The measured level ``level`` nests in: the nearest coarser one of the chain (location: org)."""
    if level is GroupLevel.LOCATION:
        return GroupLevel.ORGANISATION if GroupLevel.ORGANISATION in strategy.levels else None
    coarser = [candidate for candidate in CHAIN[: CHAIN.index(level)] if candidate in strategy.levels]
    return coarser[-1] if coarser else None


def reconcile_block(
    strategy: Strategy, block: Block, measurements: pa.Table, structure: pa.Table
) -> dict[tuple[GroupLevel, str], Series]:
    """Consistent weekly totals of ``block`` per (level, metric) (see the module docstring)."""
    rows = _rows_of(measurements, pc.field("week") >= block.start, pc.field("week") < block.end)
    found: dict[tuple[GroupLevel, str], Series] = {}
    for name in sorted({plan.metric for plan in strategy.metric_plans}):
        levels = [plan.level for plan in strategy.metric_plans if plan.metric == name]
        series = [_series(rows, level, name, block.weeks) for level in levels]
        for level, result in zip(levels, _reconciled(strategy, levels, series, structure), strict=True):
            found[(level, name)] = result
    return found


def reconcile_span(
    strategy: Strategy, span: Span, measurements: pa.Table, structure: pa.Table
) -> dict[GroupLevel, Series]:
    """Consistent person-weeks of ``span``'s first block per level."""
    rows = _rows_of(measurements, pc.field("week") == span.first.start)
    levels = list(strategy.levels)
    series = [_series(rows, level, HEADCOUNT, (span.first.start,)) for level in levels]
    return dict(zip(levels, _reconciled(strategy, levels, series, structure), strict=True))


def _rows_of(measurements: pa.Table, *conditions: pc.Expression) -> pa.Table:
    missing = set(MEASUREMENT_SCHEMA.names) - set(measurements.column_names)
    if missing:
        raise InternalError(f"the measurements lack the column(s) {', '.join(sorted(missing))}")
    condition = conditions[0]
    for more in conditions[1:]:
        condition = condition & more
    return measurements.filter(condition)


def _series(rows: pa.Table, level: GroupLevel, metric: str, weeks: Sequence[dt.date]) -> Series:
    """The measured matrix of one (level, metric), every group × every week, as recorded."""
    picked = rows.filter((pc.field("level") == level.value) & (pc.field("metric") == metric))
    groups = tuple(sorted(pc.unique(picked["group"]).to_pylist()))
    if not groups:
        raise InternalError(f"no measurement of '{metric}' at level '{level.value}' was recorded")
    rows = pc.index_in(picked["group"], value_set=pa.array(groups, pa.string())).to_numpy()
    columns = pc.index_in(picked["week"], value_set=pa.array(weeks, pa.date32()))
    values = np.zeros((len(groups), len(weeks)), dtype=np.int64)
    seen = np.zeros((len(groups), len(weeks)), dtype=bool)
    sigmas = set(pc.unique(picked["sigma"]).to_pylist())
    scales = set(pc.unique(picked["scale"]).to_pylist())
    if len(sigmas) != 1 or len(scales) != 1:
        raise InternalError(f"the noise of '{metric}' at '{level.value}' is not one number per block")
    if columns.null_count:
        raise InternalError(f"a measurement of '{metric}' is dated outside its block")
    values[rows, columns.to_numpy()] = picked["noisy"].to_numpy()
    seen[rows, columns.to_numpy()] = True
    if not seen.all():
        raise InternalError(f"a group lacks a measurement of '{metric}' at '{level.value}' in some week")
    sigma = float(sigmas.pop())
    _check_noisy(sigma, metric)
    return Series(groups, tuple(weeks), values, np.full(len(groups), sigma**2), int(scales.pop()))


def _check_noisy(sigma: float, metric: str) -> None:
    """Refuse measurements that carry no noise: publishing from them would publish true totals."""
    if not sigma > 0:
        # Nothing in teamlens measures without noise, so these come from tampering with the store.
        raise InternalError(f"measurements of '{metric}' without noise (σ = {sigma}) were found")


def _reconciled(
    strategy: Strategy, levels: list[GroupLevel], series: list[Series], structure: pa.Table
) -> list[Series]:
    nodes = []
    for level, measured in zip(levels, series, strict=True):
        parent = parent_level(strategy, level)
        index = None
        if parent is not None and parent in levels:
            position = levels.index(parent)
            index = _parent_index(structure, level, parent, measured.groups, series[position].groups)
        nodes.append(
            Node(
                measured.values.astype(np.float64),
                float(measured.variances[0]),
                None if index is None else levels.index(parent),  # type: ignore[arg-type]
                index,
            )
        )
    return [
        Series(measured.groups, measured.weeks, result.values, result.variances, measured.scale)
        for measured, result in zip(series, reconcile(nodes), strict=True)
    ]


def _parent_index(
    structure: pa.Table, level: GroupLevel, parent: GroupLevel, groups: Sequence[str], parents: Sequence[str]
) -> IntArray | None:
    """Each group's parent row, when every group of ``level`` sits in exactly one group of ``parent``."""
    if not structure.schema.equals(STRUCTURE_SCHEMA):
        raise InternalError("the organisation chart does not have STRUCTURE_SCHEMA")
    pairs = structure.filter((pc.field("level") == level.value) & (pc.field("parent_level") == parent.value))
    owners: dict[str, set[str]] = {}
    for child, owner in zip(
        pairs.column("group").to_pylist(), pairs.column("parent_group").to_pylist(), strict=True
    ):
        owners.setdefault(child, set()).add(owner)
    row_of = {group: index for index, group in enumerate(parents)}
    index = []
    for group in groups:
        found = owners.get(group, set())
        if len(found) != 1:
            return None  # not nested in this block: the two levels stay separate
        owner = found.pop()
        if owner not in row_of:
            return None
        index.append(row_of[owner])
    return np.asarray(index, dtype=np.int64)


def variance_factors(
    strategy: Strategy, structure: pa.Table, groups: dict[GroupLevel, list[str]]
) -> dict[tuple[GroupLevel, str], dict[str, float]]:
    """How much reconciliation shrinks each group's noise variance, per (level, metric) (1: not at all).

    The variances of the least-squares estimates depend only on the noise scales and the
    organisation chart, not on any data: the planner uses them to forecast what releases will show.
    """
    found: dict[tuple[GroupLevel, str], dict[str, float]] = {}
    for name in sorted({plan.metric for plan in strategy.metric_plans}):
        levels = [plan.level for plan in strategy.metric_plans if plan.metric == name]
        series = []
        for level in levels:
            sigma = strategy.metric_plan(level, name).sigma
            listed = tuple(sorted(groups[level]))
            series.append(
                Series(
                    listed, (), np.zeros((len(listed), 1), dtype=np.int64), np.full(len(listed), sigma**2), 1
                )
            )
        if any(plan.sigma == 0 for plan in strategy.metric_plans):
            for level, measured in zip(levels, series, strict=True):
                found[(level, name)] = dict.fromkeys(measured.groups, 1.0)
            continue
        for level, measured, result in zip(
            levels, series, _reconciled(strategy, levels, series, structure), strict=True
        ):
            found[(level, name)] = {
                group: float(result.variances[row] / measured.variances[row])
                for row, group in enumerate(measured.groups)
            }
    return found
