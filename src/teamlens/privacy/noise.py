"""Measure one clipping block: OpenDP's discrete Gaussian noise on every base vector of the strategy.

For each (level, metric) the strategy measures, the vector of every group's clipped weekly total
in every week of the block gets noise of the plan's σ; when the block opens a headcount span,
each level's vector of person-weeks gets the headcount plan's noise too. Every group of a level
is in the vector whether or not anyone in it had data (a missing aggregate is a true 0), and
groups come from the directory, never from the data: an empty group, a group of one and a group
of k−1 leave the engine in exactly the same shape (attacks A7, A9). Before any noise is drawn,
each vector's cost for its L2 sensitivity is taken from OpenDP's own privacy map and checked
against the strategy's share for the block. OpenDP draws each vector on two threads
(``_opendp.add_discrete_gaussian``); each vector is its own measurement, so the order of the
draws changes neither the noise's distribution nor the privacy argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import BLOCK_AGGREGATE_SCHEMA, HEADCOUNT, MEASUREMENT_SCHEMA, GroupLevel
from teamlens.errors import InternalError
from teamlens.privacy._opendp import add_discrete_gaussian, zcdp_cost
from teamlens.privacy.strategy import Block, Strategy

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class _Vector:
    """One base measurement: every group of a level × every week listed, for one metric, one σ."""

    level: GroupLevel
    metric: str
    weeks: tuple[dt.date, ...]
    sigma: float
    scale: int


def measure_block(
    strategy: Strategy, block: Block, aggregates: pa.Table, groups: Mapping[GroupLevel, Sequence[str]]
) -> pa.Table:
    """Return ``MEASUREMENT_SCHEMA`` rows for every base vector of ``block``, noised by OpenDP.

    ``aggregates`` (``BLOCK_AGGREGATE_SCHEMA``) holds the store's clipped fixed-point totals for
    this block, headcount rows included when the block opens a span; ``groups`` lists every group
    of every measured level, from the directory. Raises ``InternalError`` when a row names a
    group, week or metric outside these, or when a vector's noise does not fit its budget; both
    are checked before any noise is drawn.
    """
    _check_groups(strategy, groups)
    table = _checked(strategy, block, aggregates, groups)
    vectors = []
    for plan in strategy.metric_plans:
        _check_noise(plan.sigma, plan.sensitivity(block), strategy.block_rho(plan, block))
        vectors.append(_Vector(plan.level, plan.metric, block.weeks, plan.sigma, plan.scale))
    span = strategy.span_of(block)
    if span.first == block:
        for headcount in strategy.headcount_plans:
            sigma = headcount.sigma(span)
            _check_noise(sigma, block.n_weeks, headcount.rho_per_span)
            vectors.append(_Vector(headcount.level, HEADCOUNT, (block.start,), sigma, 1))
    totals = [_dense(table, vector, groups[vector.level]) for vector in vectors]
    noisy = [_noised(values, vector.sigma) for values, vector in zip(totals, vectors, strict=True)]
    parts = [
        _rows(vector, groups[vector.level], values) for vector, values in zip(vectors, noisy, strict=True)
    ]
    return pa.concat_tables(parts).combine_chunks() if parts else MEASUREMENT_SCHEMA.empty_table()


def _noised(totals: IntArray, sigma: float) -> list[int]:
    return add_discrete_gaussian(totals.tolist(), sigma)


def _dense(table: pa.Table, vector: _Vector, groups: Sequence[str]) -> IntArray:
    """The vector's true totals, group-major then week; a missing aggregate is a true 0."""
    picked = table.filter((pc.field("level") == vector.level.value) & (pc.field("metric") == vector.metric))
    row = pc.index_in(picked["group"], value_set=pa.array(groups, pa.string())).to_numpy()
    column = pc.index_in(picked["week"], value_set=pa.array(vector.weeks, pa.date32())).to_numpy()
    totals = np.zeros(len(groups) * len(vector.weeks), dtype=np.int64)
    totals[row * len(vector.weeks) + column] = picked["total"].to_numpy()
    return totals


def _rows(vector: _Vector, groups: Sequence[str], noisy: list[int]) -> pa.Table:
    count = len(groups) * len(vector.weeks)
    return pa.table(
        {
            "level": pa.array([vector.level.value] * count, pa.string()),
            "group": pa.array(groups, pa.string()).take(np.repeat(np.arange(len(groups)), len(vector.weeks))),
            "week": pa.array(vector.weeks, pa.date32()).take(
                np.tile(np.arange(len(vector.weeks)), len(groups))
            ),
            "metric": pa.array([vector.metric] * count, pa.string()),
            "noisy": pa.array(noisy, pa.int64()),
            "sigma": pa.array(np.full(count, vector.sigma), pa.float64()),
            "scale": pa.array(np.full(count, vector.scale), pa.int64()),
        },
        schema=MEASUREMENT_SCHEMA,
    )


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


def _checked(
    strategy: Strategy, block: Block, aggregates: pa.Table, groups: Mapping[GroupLevel, Sequence[str]]
) -> pa.Table:
    """``aggregates`` cast to ``BLOCK_AGGREGATE_SCHEMA``, every row checked against the strategy."""
    missing = set(BLOCK_AGGREGATE_SCHEMA.names) - set(aggregates.column_names)
    if missing:
        raise InternalError(f"the aggregates lack the column(s) {', '.join(sorted(missing))}")
    table = aggregates.select(BLOCK_AGGREGATE_SCHEMA.names).cast(BLOCK_AGGREGATE_SCHEMA)
    known = {level.value: groups[level] for level in strategy.levels}
    for level in pc.unique(table["level"]).to_pylist():
        listed = known.get(level, ())
        named = table.filter(pc.field("level") == level)["group"]
        if not pc.all(pc.is_in(named, value_set=pa.array(listed, pa.string()))).as_py():
            # Only directory groups are measured: a group taken from the data would reveal itself.
            raise InternalError(f"an aggregate names a group outside the directory's list for '{level}'")
    headcount = pc.equal(table["metric"], HEADCOUNT)
    if pc.any(pc.and_(headcount, pc.not_equal(table["week"], pa.scalar(block.start, pa.date32())))).as_py():
        raise InternalError("a headcount aggregate is not dated on its block's first week")
    measured = sorted(f"{plan.level.value}\x1e{plan.metric}" for plan in strategy.metric_plans)
    pairs = pc.binary_join_element_wise(table["level"], table["metric"], "\x1e")
    inside = pc.and_(
        pc.is_in(pairs, value_set=pa.array(measured, pa.string())),
        pc.is_in(table["week"], value_set=pa.array(block.weeks, pa.date32())),
    )
    outside = table.filter(pc.invert(pc.or_(headcount, inside)))
    if outside.num_rows:
        name, level = outside["metric"][0].as_py(), outside["level"][0].as_py()
        raise InternalError(f"an aggregate of metric '{name}' at '{level}' is outside the strategy")
    if table.num_rows and pc.min(table["total"]).as_py() < 0:
        raise InternalError("a clipped total is negative")
    keys = table.group_by(["level", "group", "week", "metric"]).aggregate([])
    if keys.num_rows != table.num_rows:
        raise InternalError("two aggregates for one group, week and metric")
    return table
