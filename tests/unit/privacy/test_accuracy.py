"""The planner forecasts the half-widths releases then show, within ±10%, at every group size.

The measured side runs the engine itself: 1,000 replicas of a department of one size in one
measurement (each group's noise is independent, so each is one release of that group), derived
and assembled as a release is; the forecast comes from ``expected_half_width`` alone.
"""

from __future__ import annotations

import datetime as dt
import statistics
from fractions import Fraction

import pyarrow as pa
import pytest

from teamlens.domain import HEADCOUNT, Cadence, GroupLevel, Policy, ReportDef, Rho
from teamlens.errors import ReleaseError
from teamlens.privacy import (
    ReleaseSpec,
    Strategy,
    assemble,
    expected_half_width,
    measure_block,
    reconcile_block,
    reconcile_span,
)

from .support import block_table, build_policy, chart

REPLICAS = 1000


def _policy(rho: str, cadence: Cadence = Cadence.MONTH) -> Policy:
    report = ReportDef(
        "departments", "Departments", GroupLevel.DEPARTMENT, cadence, ("emails_sent",), Fraction(1)
    )
    return build_policy(rho=Rho.of(rho), reports=(report,))


def _measured_half_width(policy: Policy, size: int, per_week: float, window: str) -> float:
    strategy = Strategy.for_policy(policy)
    groups = [f"d{i:03d}" for i in range(REPLICAS)]
    rows = []
    for block in strategy.blocks:
        truth = [
            ("department", group, week, "emails_sent", int(size * per_week * strategy.metric_plans[0].scale))
            for group in groups
            for week in block.weeks
        ]
        if strategy.span_of(block).first == block:
            truth += [("department", group, block.start, HEADCOUNT, size * block.n_weeks) for group in groups]
        rows.append(measure_block(strategy, block, block_table(truth), {GroupLevel.DEPARTMENT: groups}))
    measured = pa.concat_tables(rows)
    spec = ReleaseSpec.build(policy, "departments", [window])
    empty = chart([])
    blocks = sorted({strategy.block_of(week) for week in spec.windows[0].weeks}, key=lambda b: b.start)
    weekly = {
        (GroupLevel.DEPARTMENT, "emails_sent"): [
            reconcile_block(strategy, block, measured, empty)[(GroupLevel.DEPARTMENT, "emails_sent")]
            for block in blocks
        ]
    }
    spans = {strategy.span_of(block) for block in blocks}
    headcounts = {span.key: reconcile_span(strategy, span, measured, empty) for span in spans}
    table = assemble(
        strategy,
        spec,
        weekly,
        headcounts,
        release_id="r",
        released_at=dt.datetime.now(dt.UTC),
        rho_charged=Rho.zero(),
    )
    widths = [(cell.upper - cell.lower) / 2 for cell in table.cells if not cell.suppressed]  # type: ignore[operator]
    assert len(widths) > REPLICAS / 2
    return statistics.fmean(widths)


@pytest.mark.parametrize(
    ("rho", "size", "per_week", "cadence"),
    [
        ("1", 12, 40.0, Cadence.MONTH),
        ("1", 40, 40.0, Cadence.MONTH),
        ("1", 200, 40.0, Cadence.MONTH),
        ("1/4", 25, 60.0, Cadence.MONTH),
        ("4", 15, 5.0, Cadence.MONTH),
        ("1", 20, 40.0, Cadence.WEEK),
        ("4", 60, 40.0, Cadence.WEEK),
        ("1", 12, 40.0, Cadence.QUARTER),
        ("1/4", 40, 60.0, Cadence.QUARTER),
    ],
)
def test_the_forecast_is_within_ten_percent_of_what_releases_show(
    rho: str, size: int, per_week: float, cadence: Cadence
) -> None:
    """Per cadence (every report's windows) and group size, small groups and clamped values included."""
    policy = _policy(rho, cadence)
    window = policy.windows(cadence)[1 if cadence is not Cadence.QUARTER else 0]
    forecast = expected_half_width(policy, "departments", size, per_week, "emails_sent", window=window)
    measured = _measured_half_width(policy, size, per_week, window.key)
    assert forecast == pytest.approx(measured, rel=0.10)


def test_teeth_a_forecast_of_a_group_twice_the_size_misses_by_far_more() -> None:
    policy = _policy("1")
    window = policy.windows(Cadence.MONTH)[1]
    wrong = expected_half_width(policy, "departments", 80, 40.0, "emails_sent", window=window)
    assert wrong < 0.7 * _measured_half_width(policy, 40, 40.0, window.key)


def test_larger_groups_and_budgets_get_narrower_forecasts() -> None:
    policy = _policy("1")
    small, large = (expected_half_width(policy, "departments", n, 40.0, "emails_sent") for n in (15, 150))
    assert large < small
    richer = expected_half_width(_policy("4"), "departments", 15, 40.0, "emails_sent")
    assert richer < small


def test_bad_forecast_requests_say_what_is_wrong() -> None:
    policy = build_policy()
    with pytest.raises(ReleaseError, match="does not include the metric"):
        expected_half_width(policy, "team_weekly", 20, 1.0, "collaboration_minutes")
    with pytest.raises(ReleaseError, match="at least 1"):
        expected_half_width(policy, "team_weekly", 0, 1.0, "emails_sent")
    with pytest.raises(ReleaseError, match="zero or more"):
        expected_half_width(policy, "team_weekly", 20, -1.0, "emails_sent")
