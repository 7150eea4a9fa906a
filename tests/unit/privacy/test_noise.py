"""Measuring a block noises every base vector over every directory group, and refuses anything else."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import statistics

import pytest

from teamlens.domain import HEADCOUNT, MEASUREMENT_SCHEMA, GroupLevel, Policy
from teamlens.errors import InternalError
from teamlens.privacy import Strategy, _opendp, measure_block
from teamlens.privacy import noise as noise_module

from ...support.exact import exact_mode
from .support import block_table

JAN = [dt.date(2025, 12, 29) + dt.timedelta(weeks=week) for week in range(5)]
GROUPS = {
    GroupLevel.ORGANISATION: ["Organisation"],
    GroupLevel.DEPARTMENT: ["\x1f", "ops", "sales"],
    GroupLevel.TEAM: ["\x1f", "a", "b", "empty"],
}


def _aggregates() -> list[tuple[str, str, dt.date, str, int]]:
    return [
        ("team", "a", JAN[0], "emails_sent", 16 * 300),
        ("team", "b", JAN[1], "meeting_minutes", 1200),
        ("department", "ops", JAN[2], "after_hours_minutes", 500),
        ("organisation", "Organisation", JAN[4], "collaboration_minutes", 9000),
        ("team", "a", JAN[0], HEADCOUNT, 55),
        ("department", "ops", JAN[0], HEADCOUNT, 60),
        ("organisation", "Organisation", JAN[0], HEADCOUNT, 90),
    ]


def test_exact_mode_measures_true_totals_and_fills_every_missing_group_and_week_with_zero(
    policy: Policy,
) -> None:
    with exact_mode():
        strategy = Strategy.for_policy(policy)
        rows = measure_block(strategy, strategy.blocks[0], block_table(_aggregates()), GROUPS)
    assert rows.schema == MEASUREMENT_SCHEMA
    got = {(r["level"], r["group"], r["week"], r["metric"]): r["noisy"] for r in rows.to_pylist()}
    expected_rows = sum(len(GROUPS[p.level]) * 5 for p in strategy.metric_plans) + sum(
        len(g) for g in GROUPS.values()
    )
    assert len(got) == expected_rows
    for level, group, week, name, total in _aggregates():
        assert got[(level, group, week, name)] == total
    assert got[("team", "empty", JAN[3], "emails_sent")] == 0
    assert set(rows.column("sigma").to_pylist()) == {0.0}


def test_every_vector_gets_its_plans_sigma_and_scale(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    rows = measure_block(strategy, strategy.blocks[0], block_table(_aggregates()), GROUPS)
    for plan in strategy.metric_plans:
        picked = [
            r for r in rows.to_pylist() if r["level"] == plan.level.value and r["metric"] == plan.metric
        ]
        assert len(picked) == len(GROUPS[plan.level]) * 5
        assert {r["sigma"] for r in picked} == {plan.sigma}
        assert {r["scale"] for r in picked} == {plan.scale}
    heads = [r for r in rows.to_pylist() if r["metric"] == HEADCOUNT]
    span = strategy.span_of(strategy.blocks[0])
    assert {r["sigma"] for r in heads} == {strategy.headcount_plans[0].sigma(span)}
    assert {r["week"] for r in heads} == {JAN[0]}


def test_a_block_that_does_not_open_its_span_measures_no_headcount(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    later = next(block for block in strategy.blocks if strategy.span_of(block).first != block)
    weeks = later.weeks
    rows = measure_block(strategy, later, block_table([("team", "a", weeks[0], "emails_sent", 10)]), GROUPS)
    assert HEADCOUNT not in set(rows.column("metric").to_pylist())


def test_the_noise_is_spread_as_the_plan_says(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    plan = strategy.metric_plan(GroupLevel.TEAM, "emails_sent")
    many = {**GROUPS, GroupLevel.TEAM: [f"t{i}" for i in range(400)]}
    rows = measure_block(strategy, strategy.blocks[0], block_table([]), many)
    noise = [r["noisy"] for r in rows.to_pylist() if r["level"] == "team" and r["metric"] == "emails_sent"]
    # 2,000 draws of N(0, σ²): the sample sd is within 5 standard errors (σ/√(2n)) of σ.
    assert abs(statistics.pstdev(noise) - plan.sigma) < 5 * plan.sigma / math.sqrt(2 * len(noise))
    assert abs(statistics.fmean(noise)) < 5 * plan.sigma / math.sqrt(len(noise))


def test_teeth_noise_of_half_the_planned_sigma_is_refused_before_any_is_drawn(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    halved = dataclasses.replace(
        strategy,
        metric_plans=tuple(dataclasses.replace(plan, sigma=plan.sigma / 2) for plan in strategy.metric_plans),
    )
    with pytest.raises(InternalError, match="costs more than its share"):
        measure_block(halved, strategy.blocks[0], block_table(_aggregates()), GROUPS)


def test_a_plan_without_noise_never_reaches_data_outside_exact_mode(policy: Policy) -> None:
    with exact_mode():
        exact = Strategy.for_policy(policy)
    with pytest.raises(InternalError, match="without noise"):
        measure_block(exact, exact.blocks[0], block_table(_aggregates()), GROUPS)


def test_a_group_taken_from_the_data_is_refused(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    rows = [*_aggregates(), ("team", "newcomers", JAN[0], "emails_sent", 5)]
    with pytest.raises(InternalError, match="outside the directory"):
        measure_block(strategy, strategy.blocks[0], block_table(rows), GROUPS)


@pytest.mark.parametrize(
    "row",
    [
        ("team", "a", dt.date(2026, 2, 2), "emails_sent", 5),  # a week of another block
        ("team", "a", JAN[0], "after_hours_minutes", 5),  # not measured at team level
        ("team", "a", JAN[1], HEADCOUNT, 5),  # a headcount not dated on the block's start
        ("team", "a", JAN[0], "emails_sent", -1),  # negative
    ],
)
def test_rows_outside_the_strategy_are_refused(
    policy: Policy, row: tuple[str, str, dt.date, str, int]
) -> None:
    strategy = Strategy.for_policy(policy)
    with pytest.raises(InternalError):
        measure_block(strategy, strategy.blocks[0], block_table([row]), GROUPS)


def test_a_group_listed_twice_would_double_its_noise_and_is_refused(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    groups = {**GROUPS, GroupLevel.TEAM: ["a", "a"]}
    with pytest.raises(InternalError, match="more than once"):
        measure_block(strategy, strategy.blocks[0], block_table([]), groups)


def test_noise_comes_from_opendp_only(policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counting(totals: list[int], sigma: float) -> list[int]:
        calls.append(len(totals))
        return list(totals)

    monkeypatch.setattr(noise_module, "add_discrete_gaussian", counting)
    strategy = Strategy.for_policy(policy)
    measure_block(strategy, strategy.blocks[0], block_table(_aggregates()), GROUPS)
    assert len(calls) == len(strategy.metric_plans) + len(strategy.headcount_plans)


def _chunks_differ(noise: list[int]) -> bool:
    chunks = [tuple(noise[start : start + _opendp._CHUNK]) for start in range(0, len(noise), _opendp._CHUNK)]
    return len(set(chunks)) == len(chunks)


def test_a_long_vector_drawn_in_chunks_keeps_its_order_and_its_noise_scale() -> None:
    """OpenDP draws a long vector in chunks on threads: every coordinate still gets its own draw."""
    sigma = 3.0
    count = 4 * _opendp._CHUNK + 17  # several chunks and a short last one
    totals = [1_000 * n for n in range(count)]  # far apart: a coordinate out of place would show
    noisy = _opendp.add_discrete_gaussian(totals, sigma)
    noise = [value - true for value, true in zip(noisy, totals, strict=True)]
    assert len(noise) == count
    assert max(abs(value) for value in noise) < 10 * sigma
    assert abs(statistics.pstdev(noise) - sigma) < 5 * sigma / math.sqrt(2 * count)
    assert _chunks_differ(noise)
    # Teeth: one chunk's draws reused for every chunk (coordinates sharing noise) are caught.
    assert not _chunks_differ(noise[: _opendp._CHUNK] * 4)
