"""Every inconsistent input the engine can be handed is refused with a message naming what is wrong.

These are the engine's guards against a bug elsewhere (the store, the governance database, a
caller): a measurement table missing a column or a week, two noise scales in one vector, an
aggregate twice, a chart of the wrong shape, a lookup of something the strategy does not hold.
Each would otherwise publish a number computed from the wrong data or with the wrong noise.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from teamlens.domain import HEADCOUNT, GroupLevel, Policy
from teamlens.errors import InternalError, ReleaseError
from teamlens.privacy import Strategy, measure_block, reconcile_block, reconcile_span
from teamlens.privacy._opendp import calibrate_sigma

from .support import block_table, build_policy, chart
from .test_assemble import CHART, _measure
from .test_noise import GROUPS, _aggregates


@pytest.fixture(scope="module")
def measured() -> tuple[Strategy, pa.Table]:
    return _measure(build_policy())


def _first(strategy: Strategy, rows: pa.Table) -> pa.Table:
    block = strategy.blocks[0]
    return rows.filter(pc.field("week") < block.end)


def _tampered(rows: pa.Table, index: int, column: str, value: object) -> pa.Table:
    values = rows.column(column).to_pylist()
    values[index] = value
    return rows.set_column(
        rows.schema.get_field_index(column), column, pa.array(values, rows.schema.field(column).type)
    )


def _index_of(rows: pa.Table, level: str, metric: str) -> int:
    for index, row in enumerate(rows.to_pylist()):
        if row["level"] == level and row["metric"] == metric:
            return index
    raise AssertionError(f"no row of {metric} at {level}")


def test_the_untouched_block_is_reconciled(measured: tuple[Strategy, pa.Table]) -> None:
    strategy, rows = measured
    found = reconcile_block(strategy, strategy.blocks[0], _first(strategy, rows), CHART)
    assert (GroupLevel.TEAM, "emails_sent") in found


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda rows: rows.drop_columns(["sigma"]), "lack the column"),
        (
            lambda rows: _tampered(rows, _index_of(rows, "team", "emails_sent"), "sigma", 1.5),
            "not one number",
        ),
        (
            lambda rows: _tampered(
                rows, _index_of(rows, "team", "emails_sent"), "week", dt.date(2025, 12, 30)
            ),
            "dated outside its block",
        ),
        (lambda rows: rows.slice(1), "lacks a measurement"),
        (lambda rows: rows.filter(pc.field("metric") != "emails_sent"), "no measurement of 'emails_sent'"),
    ],
    ids=["column", "two-sigmas", "week", "missing-entry", "missing-vector"],
)
def test_a_damaged_measurement_table_is_refused(
    measured: tuple[Strategy, pa.Table], tamper, message: str
) -> None:
    strategy, rows = measured
    block = _first(strategy, rows).sort_by([("level", "descending"), ("metric", "ascending")])
    with pytest.raises(InternalError, match=message):
        reconcile_block(strategy, strategy.blocks[0], tamper(block), CHART)


def test_a_chart_of_another_shape_is_refused(measured: tuple[Strategy, pa.Table]) -> None:
    strategy, rows = measured
    with pytest.raises(InternalError, match="STRUCTURE_SCHEMA"):
        reconcile_block(
            strategy, strategy.blocks[0], _first(strategy, rows), CHART.drop_columns(["parent_group"])
        )


def test_a_team_in_two_departments_is_reconciled_without_the_department(
    measured: tuple[Strategy, pa.Table],
) -> None:
    """A chart that does not nest teams in one department keeps the levels apart (no made-up sums)."""
    strategy, rows = measured
    pairs = [
        (row["level"], row["group"], row["parent_level"], row["parent_group"]) for row in CHART.to_pylist()
    ]
    split = chart([*pairs, ("team", "a", "department", "\x1f")])
    block = strategy.blocks[0]
    nested = reconcile_block(strategy, block, _first(strategy, rows), CHART)
    apart = reconcile_block(strategy, block, _first(strategy, rows), split)
    team, department = apart[(GroupLevel.TEAM, "emails_sent")], apart[(GroupLevel.DEPARTMENT, "emails_sent")]
    ops = department.values[department.groups.index("ops")]
    children = sum(team.values[team.groups.index(name)] for name in ("a", "b"))
    assert (nested[(GroupLevel.DEPARTMENT, "emails_sent")].values != department.values).any()
    assert not (children == ops).all()  # without nesting, the teams need not add up to ops


def test_a_headcount_missing_from_the_span_is_refused(measured: tuple[Strategy, pa.Table]) -> None:
    strategy, rows = measured
    span = strategy.spans[0]
    without = rows.filter(pc.field("metric") != HEADCOUNT)
    with pytest.raises(InternalError, match="headcount"):
        reconcile_span(strategy, span, without, CHART)


def test_measuring_refuses_a_missing_group_list_a_missing_column_and_a_duplicate(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    block, table = strategy.blocks[0], block_table(_aggregates())
    with pytest.raises(InternalError, match="no group list for level"):
        measure_block(strategy, block, table, {GroupLevel.TEAM: GROUPS[GroupLevel.TEAM]})
    with pytest.raises(InternalError, match="lack the column"):
        measure_block(strategy, block, table.drop_columns(["total"]), GROUPS)
    with pytest.raises(InternalError, match="two aggregates"):
        measure_block(strategy, block, pa.concat_tables([table, table.slice(0, 1)]), GROUPS)


def test_the_strategy_refuses_what_it_does_not_hold(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    with pytest.raises(InternalError, match="not a week of the policy period"):
        strategy.block_of(dt.date(2030, 1, 7))
    with pytest.raises(InternalError, match="not a clipping block"):
        strategy.block("2030-01")
    with pytest.raises(InternalError, match="is not measured at level"):
        strategy.metric_plan(GroupLevel.LOCATION, "emails_sent")
    with pytest.raises(InternalError, match="no headcount is measured"):
        strategy.headcount_plan(GroupLevel.LOCATION)
    assert strategy.metrics_at(GroupLevel.TEAM) == tuple(sorted(strategy.metrics_at(GroupLevel.TEAM)))
    assert strategy.spans[0].weeks == tuple(
        week for block in strategy.spans[0].blocks for week in block.weeks
    )


def test_a_period_without_a_whole_week_and_an_empty_catalogue_are_refused(policy: Policy) -> None:
    short = dataclasses.replace(policy, period_end=policy.period_start + dt.timedelta(days=3))
    with pytest.raises(ReleaseError, match="no whole ISO week"):
        Strategy.for_policy(short)
    with pytest.raises(InternalError, match="empty report catalogue"):
        Strategy.for_policy(dataclasses.replace(policy, reports=()))


def test_no_noise_scale_is_calibrated_for_no_budget() -> None:
    with pytest.raises(InternalError, match="non-positive bound or budget"):
        calibrate_sigma(1, Fraction(0))
    with pytest.raises(InternalError, match="non-positive bound or budget"):
        calibrate_sigma(0, Fraction(1))
