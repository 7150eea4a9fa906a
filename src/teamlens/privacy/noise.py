"""Measure one clipping block: OpenDP's discrete Gaussian noise on every base vector of the strategy.

For each (level, metric) the strategy measures, the vector of every group's clipped weekly total
in every week of the block gets noise of the plan's σ; when the block opens a headcount span,
each level's vector of person-weeks gets the headcount plan's noise too. Every group of a level
is in the vector whether or not anyone in it had data (a missing aggregate is a true 0), and
groups come from the directory, never from the data: an empty group, a group of one and a group
of k−1 leave the engine in exactly the same shape (attacks A7, A9). Before any noise is drawn,
each vector's cost for its L2 sensitivity is taken from OpenDP's own privacy map and checked
against the strategy's share for the block.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import pyarrow as pa

from teamlens.domain import BLOCK_AGGREGATE_SCHEMA, HEADCOUNT, MEASUREMENT_SCHEMA, GroupLevel
from teamlens.errors import InternalError
from teamlens.privacy._opendp import add_discrete_gaussian, zcdp_cost
from teamlens.privacy.strategy import Block, Strategy

_Key = tuple[str, str, dt.date, str]  # level, group, week, metric


def measure_block(
    strategy: Strategy, block: Block, aggregates: pa.Table, groups: Mapping[GroupLevel, Sequence[str]]
) -> pa.Table:
    """Return ``MEASUREMENT_SCHEMA`` rows for every base vector of ``block``, noised by OpenDP.

    ``aggregates`` (``BLOCK_AGGREGATE_SCHEMA``) holds the store's clipped fixed-point totals for
    this block, headcount rows included when the block opens a span; ``groups`` lists every group
    of every measured level, from the directory. Raises ``InternalError`` when a row names a
    group, week or metric outside these, or when a vector's noise does not fit its budget.
    """
    _check_groups(strategy, groups)
    totals = _totals(strategy, block, aggregates, groups)
    opens_span = strategy.span_of(block).first == block
    columns: dict[str, list[object]] = {name: [] for name in MEASUREMENT_SCHEMA.names}
    for plan in strategy.metric_plans:
        rho = strategy.block_rho(plan, block)
        _check_noise(plan.sigma, plan.sensitivity(block), rho)
        keys = [
            (plan.level.value, group, week, plan.metric)
            for group in groups[plan.level]
            for week in block.weeks
        ]
        _extend(columns, keys, totals, plan.sigma, plan.scale)
    if opens_span:
        span = strategy.span_of(block)
        for headcount in strategy.headcount_plans:
            sigma = headcount.sigma(span)
            _check_noise(sigma, block.n_weeks, headcount.rho_per_span)
            keys = [
                (headcount.level.value, group, block.start, HEADCOUNT) for group in groups[headcount.level]
            ]
            _extend(columns, keys, totals, sigma, 1)
    return pa.Table.from_pydict(columns, schema=MEASUREMENT_SCHEMA)


def _extend(
    columns: dict[str, list[object]],
    keys: list[_Key],
    totals: Mapping[_Key, int],
    sigma: float,
    scale: int,
) -> None:
    vector = [totals.get(key, 0) for key in keys]
    noisy = add_discrete_gaussian(vector, sigma)
    columns["level"].extend(key[0] for key in keys)
    columns["group"].extend(key[1] for key in keys)
    columns["week"].extend(key[2] for key in keys)
    columns["metric"].extend(key[3] for key in keys)
    columns["noisy"].extend(noisy)
    columns["sigma"].extend([sigma] * len(keys))
    columns["scale"].extend([scale] * len(keys))


def _check_groups(strategy: Strategy, groups: Mapping[GroupLevel, Sequence[str]]) -> None:
    for level in strategy.levels:
        listed = groups.get(level)
        if listed is None or isinstance(listed, str):
            raise InternalError(f"measure_block was given no group list for level '{level.value}'")
        if len(set(listed)) != len(listed):
            # A group listed twice would get two independent noisy answers: twice the privacy loss.
            raise InternalError(f"the group list of level '{level.value}' names a group more than once")


def _check_noise(sigma: float, sensitivity: int, rho: object) -> None:
    if not sigma > 0.0:
        # A noise-free plan must never reach real data: it would publish true totals.
        raise InternalError("a strategy without noise was given to measure_block")
    if zcdp_cost(sigma, sensitivity) > rho:  # type: ignore[operator]
        raise InternalError("a measurement's noise costs more than its share of the budget")


def _totals(
    strategy: Strategy, block: Block, aggregates: pa.Table, groups: Mapping[GroupLevel, Sequence[str]]
) -> dict[_Key, int]:
    missing = set(BLOCK_AGGREGATE_SCHEMA.names) - set(aggregates.column_names)
    if missing:
        raise InternalError(f"the aggregates lack the column(s) {', '.join(sorted(missing))}")
    known = {level.value: set(groups[level]) for level in strategy.levels}
    measured = {(plan.level.value, plan.metric) for plan in strategy.metric_plans}
    weeks = set(block.weeks)
    totals: dict[_Key, int] = {}
    table = aggregates.select(BLOCK_AGGREGATE_SCHEMA.names).cast(BLOCK_AGGREGATE_SCHEMA)
    for row in table.to_pylist():
        level, group, week, name, total = row["level"], row["group"], row["week"], row["metric"], row["total"]
        if group not in known.get(level, ()):
            # Only directory groups are measured: a group taken from the data would reveal itself.
            raise InternalError(f"an aggregate names a group outside the directory's list for '{level}'")
        if name == HEADCOUNT:
            if week != block.start:
                raise InternalError("a headcount aggregate is not dated on its block's first week")
        elif (level, name) not in measured or week not in weeks:
            raise InternalError(f"an aggregate of metric '{name}' at '{level}' is outside the strategy")
        if total < 0:
            raise InternalError("a clipped total is negative")
        key = (level, group, week, name)
        if key in totals:
            raise InternalError("two aggregates for one group, week and metric")
        totals[key] = int(total)
    return totals
