"""From measurements to released cells: exact definitions, exact consistency, suppression, flags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

import pyarrow as pa
import pytest

from teamlens.domain import HEADCOUNT, GroupLevel, HeadcountSpan, Policy, ReleasedTable, Rho
from teamlens.errors import InternalError
from teamlens.privacy import (
    ReleaseSpec,
    Strategy,
    assemble,
    measure_block,
    reconcile_block,
    reconcile_span,
    variance_factors,
)

from ...support.exact import exact_mode
from .support import block_table, chart

WEEKS = [dt.date(2025, 12, 29) + dt.timedelta(weeks=week) for week in range(13)]
CHART = chart(
    [
        ("department", "ops", "organisation", "Organisation"),
        ("department", "\x1f", "organisation", "Organisation"),
        ("team", "a", "department", "ops"),
        ("team", "b", "department", "ops"),
        ("team", "\x1f", "department", "\x1f"),
        ("team", "a", "organisation", "Organisation"),
        ("team", "b", "organisation", "Organisation"),
        ("team", "\x1f", "organisation", "Organisation"),
    ]
)
GROUPS = {
    GroupLevel.ORGANISATION: ["Organisation"],
    GroupLevel.DEPARTMENT: ["\x1f", "ops"],
    GroupLevel.TEAM: ["\x1f", "a", "b"],
}
#: Team sizes: a has 40 people, b has 60 (so ops has 100); emails per person per week vary by week.
SIZES = {"a": 40, "b": 60}


def _truth(strategy: Strategy) -> list[tuple[str, str, dt.date, str, int]]:
    """Clipped fixed-point totals as the store would hand them over, nested exactly."""
    rows: list[tuple[str, str, dt.date, str, int]] = []
    emails = strategy.metric_plan(GroupLevel.TEAM, "emails_sent").scale
    for index, week in enumerate(WEEKS):
        per_team = {"a": 40 * (20 + index) * emails, "b": 60 * (10 + index) * emails}
        for team, total in per_team.items():
            rows.append(("team", team, week, "emails_sent", total))
        rows.append(("department", "ops", week, "emails_sent", sum(per_team.values())))
    for block in strategy.blocks:
        if strategy.span_of(block).first == block:
            for team, size in SIZES.items():
                rows.append(("team", team, block.start, HEADCOUNT, size * block.n_weeks))
            rows.append(("department", "ops", block.start, HEADCOUNT, 100 * block.n_weeks))
            rows.append(("organisation", "Organisation", block.start, HEADCOUNT, 100 * block.n_weeks))
    return rows


def _measure(policy: Policy) -> tuple[Strategy, pa.Table]:
    """Every block of the period measured once, from the exactly nested truth."""
    strategy = Strategy.for_policy(policy)
    truth = _truth(strategy)
    parts = []
    for block in strategy.blocks:
        inside = [row for row in truth if block.start <= row[2] < block.end]
        parts.append(measure_block(strategy, block, block_table(inside), GROUPS))
    return strategy, pa.concat_tables(parts)


def _derive(strategy: Strategy, rows: pa.Table, report: str, windows: Sequence[str]) -> ReleasedTable:
    spec = ReleaseSpec.build(strategy.policy, report, list(windows))
    weekly: dict[tuple[GroupLevel, str], list[object]] = {}
    blocks = sorted(
        {strategy.block_of(week) for window in spec.windows for week in window.weeks}, key=lambda b: b.start
    )
    for block in blocks:
        for key, series in reconcile_block(strategy, block, rows, CHART).items():
            weekly.setdefault(key, []).append(series)
    headcounts = {
        span.key: reconcile_span(strategy, span, rows, CHART)
        for span in {strategy.span_of(block) for block in blocks}
    }
    return assemble(
        strategy,
        spec,
        weekly,  # type: ignore[arg-type]
        headcounts,
        release_id="r-test",
        released_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
        rho_charged=Rho.zero(),
    )


def _release(policy: Policy, report: str, windows: Sequence[str]) -> ReleasedTable:
    return _derive(*_measure(policy), report, windows)


def _cells(table: ReleasedTable) -> dict[tuple[str, str, str], object]:
    return {(cell.group, cell.window, cell.metric): cell for cell in table.cells}


def test_exact_release_is_total_over_person_weeks_per_week(policy: Policy) -> None:
    with exact_mode():
        table = _release(policy, "team_weekly", ["2026-W02", "2026-W05"])
    cells = _cells(table)
    for index, key in ((1, "2026-W02"), (4, "2026-W05")):
        a = cells[("a", key, "emails_sent")]
        b = cells[("b", key, "emails_sent")]
        assert a.value == pytest.approx(20 + index)  # type: ignore[attr-defined]
        assert b.value == pytest.approx(10 + index)  # type: ignore[attr-defined]
        assert a.lower == a.upper == a.value  # type: ignore[attr-defined]
        assert a.person_weeks == 40  # type: ignore[attr-defined]
    assert "\x1f" not in {cell.group for cell in table.cells}


def test_exact_monthly_values_are_the_mean_over_the_months_weeks(policy: Policy) -> None:
    with exact_mode():
        table = _release(policy, "department_monthly", ["2026-02"])
    ops = _cells(table)[("ops", "2026-02", "emails_sent")]
    weeks = range(5, 9)  # the Mondays of February 2026 are the 6th to 9th weeks of the period
    expected = sum(40 * (20 + w) + 60 * (10 + w) for w in weeks) / (100 * 4)
    assert ops.value == pytest.approx(expected)  # type: ignore[attr-defined]


def test_noisy_team_totals_add_up_to_the_department_and_weeks_to_the_month(policy: Policy) -> None:
    strategy, rows = _measure(policy)
    weekly = _derive(strategy, rows, "team_weekly", [f"2026-W{w:02d}" for w in range(6, 10)])
    monthly = _derive(strategy, rows, "department_monthly", ["2026-02"])
    teams = [cell for cell in weekly.cells if cell.metric == "emails_sent"]
    assert len(teams) == 8 and all(cell.total is not None for cell in teams)
    ops = _cells(monthly)[("ops", "2026-02", "emails_sent")]
    # Teams a and b are the whole of ops (the hidden team sits under the hidden department), so
    # their weekly totals add up to the department's, and its four weeks to its month: exactly,
    # up to the float division by the fixed-point scale.
    assert ops.total == pytest.approx(sum(cell.total for cell in teams), rel=1e-12)  # type: ignore[attr-defined,misc]
    exact = sum(40 * (20 + w) + 60 * (10 + w) for w in range(5, 9))
    assert ops.total != pytest.approx(exact, rel=1e-6)  # type: ignore[attr-defined]  (it is noisy)


def test_a_group_whose_headcount_is_under_k_is_suppressed_with_nothing_else(policy: Policy) -> None:
    with exact_mode():
        table = _release(replace(policy, min_group_size=41), "team_weekly", ["2026-W03"])
    cells = _cells(table)
    suppressed = cells[("a", "2026-W03", "emails_sent")]
    assert suppressed.suppressed  # type: ignore[attr-defined]
    assert (suppressed.lower, suppressed.upper, suppressed.total, suppressed.person_weeks) == (None,) * 4  # type: ignore[attr-defined]
    assert not cells[("b", "2026-W03", "emails_sent")].suppressed  # type: ignore[attr-defined]


def test_a_window_late_in_a_span_uses_the_spans_headcount(policy: Policy) -> None:
    spanned = replace(policy, design=replace(policy.design, headcount_span=HeadcountSpan.PERIOD))
    with exact_mode():
        table = _release(spanned, "team_weekly", ["2026-W12"])
    assert _cells(table)[("b", "2026-W12", "emails_sent")].person_weeks == 60  # type: ignore[attr-defined]


def test_values_with_an_interval_wider_than_half_the_typical_value_are_marked_uncertain(
    policy: Policy,
) -> None:
    table = _release(replace(policy, rho=Rho.of("1/100")), "team_weekly", ["2026-W03"])
    shown = [cell for cell in table.cells if not cell.suppressed]
    assert shown and all(cell.uncertain for cell in shown)
    precise = _release(replace(policy, rho=Rho.of("100000")), "department_monthly", ["2026-02"])
    assert not any(cell.uncertain for cell in precise.cells if cell.metric == "emails_sent")


def test_every_shown_interval_has_width_and_contains_its_value(policy: Policy) -> None:
    table = _release(
        replace(policy, rho=Rho.of("1/20")), "team_weekly", [f"2026-W{w:02d}" for w in range(1, 14)]
    )
    shown = [cell for cell in table.cells if not cell.suppressed]
    assert shown
    for cell in shown:
        assert cell.lower < cell.upper  # type: ignore[operator]
        assert cell.lower <= cell.value <= cell.upper  # type: ignore[operator]
        assert cell.lower >= 0


def test_the_planner_knows_how_much_reconciliation_narrows_each_group(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    factors = variance_factors(strategy, CHART, {level: list(groups) for level, groups in GROUPS.items()})
    strategy_rows = _measure(policy)[1]
    reconciled = reconcile_block(strategy, strategy.blocks[0], strategy_rows, CHART)
    for (level, name), by_group in factors.items():
        series = reconciled[(level, name)]
        sigma = strategy.metric_plan(level, name).sigma
        for group, factor in by_group.items():
            assert 0 < factor <= 1 + 1e-12
            assert factor == pytest.approx(series.variances[series.rows[group]] / sigma**2, rel=1e-9)
    # Departments gain from their teams' measurements (they are two independent looks at one total).
    assert factors[(GroupLevel.DEPARTMENT, "emails_sent")]["ops"] < 0.9
    assert factors[(GroupLevel.DEPARTMENT, "after_hours_minutes")]["ops"] == pytest.approx(
        1.0
    )  # no team measures it


def test_noise_free_measurements_are_refused_by_the_estimates(policy: Policy) -> None:
    with exact_mode():
        strategy, rows = _measure(policy)
    with pytest.raises(InternalError, match="without noise"):
        reconcile_block(strategy, strategy.blocks[0], rows, CHART)
