from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from typing import Any

import opendp.prelude as dp
import pytest

from teamlens.domain import HEADCOUNT, Cadence, Policy, Rho, Window
from teamlens.errors import ReleaseError
from teamlens.privacy import CellPlan, ReleasePlan, ReleaseSpec, plan_release
from teamlens.privacy.testing import exact_mode

from .support import REPORTS, build_policy

dp.enable_features("contrib")


def _opendp_rho(sigma: float, bound: int) -> Fraction:
    """The zCDP cost OpenDP certifies, computed here independently of teamlens' wrapper."""
    measurement: Any = dp.m.make_gaussian(
        dp.vector_domain(dp.atom_domain(T=dp.i64)), dp.l2_distance(T=dp.i64), scale=sigma
    )
    return Fraction(measurement.map(bound))


def _whole_catalogue(policy: Policy) -> list[ReleasePlan]:
    specs = [
        ReleaseSpec.build(policy, report.report_id, list(policy.windows(report.cadence)))
        for report in policy.reports
    ]
    return [plan_release(policy, spec) for spec in specs]


@pytest.mark.parametrize(
    ("report_id", "expected"),
    [
        ("team_weekly", Fraction(1, 4) / (13 * 3)),
        ("department_monthly", Fraction(1, 2) / (3 * 4)),
        ("organisation_quarterly", Fraction(1, 4) / (1 * 2)),
    ],
)
def test_each_cell_gets_its_exact_share(policy: Policy, report_id: str, expected: Fraction) -> None:
    windows = policy.windows(policy.report(report_id).cadence)
    plan = plan_release(policy, ReleaseSpec.build(policy, report_id, [windows[0]]))
    assert {cell.rho for cell in plan.cells} == {expected}


def test_the_share_uses_the_reports_metrics_not_the_specs(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-01", "2026-02"], ["emails_sent"])
    plan = plan_release(policy, spec)
    assert [(cell.window.key, cell.metric) for cell in plan.cells] == [
        ("2026-01", "emails_sent"),
        ("2026-01", HEADCOUNT),
        ("2026-02", "emails_sent"),
        ("2026-02", HEADCOUNT),
    ]
    assert plan.cost == Rho(Fraction(4, 24))
    assert isinstance(plan.cost.value, Fraction)


def test_releasing_the_whole_catalogue_costs_exactly_the_policy_budget(policy: Policy) -> None:
    plans = _whole_catalogue(policy)
    total = sum((plan.cost.value for plan in plans), Fraction(0))
    assert total == policy.rho.value == 1
    assert sum(len(plan.cells) for plan in plans) == 13 * 3 + 3 * 4 + 1 * 2


def test_with_shares_under_one_the_catalogue_costs_less_than_the_budget() -> None:
    reports = (REPORTS[0], REPORTS[1])  # shares 1/4 + 1/2
    policy = build_policy(reports=reports, rho=Rho.of("7/10"))
    total = sum((plan.cost.value for plan in _whole_catalogue(policy)), Fraction(0))
    assert total == Fraction(7, 10) * Fraction(3, 4)
    assert total < policy.rho.value


def test_bounds_follow_the_window_length_and_the_headcount_has_bound_one(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-01", "2026-02"])
    plan = plan_release(policy, spec)
    assert plan.bounds == {
        ("2026-01", "after_hours_minutes"): 600 * 5,
        ("2026-01", "emails_sent"): 500 * 5,
        ("2026-01", "meeting_minutes"): 2400 * 5,
        ("2026-02", "after_hours_minutes"): 600 * 4,
        ("2026-02", "emails_sent"): 500 * 4,
        ("2026-02", "meeting_minutes"): 2400 * 4,
    }
    assert {cell.bound for cell in plan.cells if cell.metric == HEADCOUNT} == {1}


def test_sigma_is_the_gaussian_calibration_and_fits_the_cell_budget(policy: Policy) -> None:
    for plan in _whole_catalogue(policy):
        for cell in plan.cells:
            closed_form = cell.bound / math.sqrt(2 * float(cell.rho))
            assert cell.sigma == pytest.approx(closed_form, rel=1e-9)
            assert _opendp_rho(cell.sigma, cell.bound) <= cell.rho


def test_teeth_half_the_planned_sigma_would_overspend(policy: Policy) -> None:
    for plan in _whole_catalogue(policy):
        for cell in plan.cells:
            assert _opendp_rho(cell.sigma / 2, cell.bound) > cell.rho


def test_the_closed_form_alone_would_sometimes_overspend_so_sigma_is_nudged(policy: Policy) -> None:
    """Float rounding makes bound/√(2ρ) a hair too small for some cells; the plan corrects it."""
    cells = [cell for plan in _whole_catalogue(policy) for cell in plan.cells]
    overspent = [
        cell
        for cell in cells
        if _opendp_rho(cell.bound / math.sqrt(2 * float(cell.rho)), cell.bound) > cell.rho
    ]
    assert overspent, "pick a policy where float rounding bites, or this test proves nothing"
    assert all(_opendp_rho(cell.sigma, cell.bound) <= cell.rho for cell in overspent)


def test_already_released_cells_are_free_and_left_out(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-01", "2026-02"])
    full = plan_release(policy, spec)
    done = {("2026-01", "meeting_minutes"), ("2026-01", HEADCOUNT), ("2026-03", "emails_sent")}
    partial = plan_release(policy, spec, done)
    planned = {(cell.window.key, cell.metric) for cell in partial.cells}
    assert planned == {(cell.window.key, cell.metric) for cell in full.cells} - done
    assert partial.cost == Rho(full.cost.value - 2 * Fraction(1, 24))
    assert ("2026-01", "meeting_minutes") not in partial.bounds


def test_asking_again_for_everything_released_costs_nothing(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "team_weekly", ["2026-W01", "2026-W02"])
    first = plan_release(policy, spec)
    again = plan_release(policy, spec, [(cell.window.key, cell.metric) for cell in first.cells])
    assert again.cells == ()
    assert again.cost == Rho.zero()
    assert again.bounds == {}


def test_the_headcount_is_planned_only_when_not_yet_released(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "team_weekly", ["2026-W01"], ["emails_sent"])
    plan = plan_release(policy, spec, [("2026-W01", HEADCOUNT)])
    assert [cell.metric for cell in plan.cells] == ["emails_sent"]


def test_cell_lookup(policy: Policy) -> None:
    plan = plan_release(policy, ReleaseSpec.build(policy, "organisation_quarterly", ["2026-Q1"]))
    cell = plan.cell("2026-Q1", "collaboration_minutes")
    assert isinstance(cell, CellPlan)
    assert cell.window == Window(Cadence.QUARTER, "2026-Q1")
    assert cell.bound == 3000 * 13
    assert plan.cell("2026-Q1", "emails_sent") is None


def test_exact_mode_plans_no_noise_and_no_cost(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-01"])
    with exact_mode():
        plan = plan_release(policy, spec)
    assert plan.cost == Rho.zero()
    assert {(cell.sigma, cell.rho) for cell in plan.cells} == {(0.0, Fraction(0))}
    assert plan.bounds[("2026-01", "meeting_minutes")] == 12000
    # Leaving the block restores real noise.
    assert plan_release(policy, spec).cost == Rho(Fraction(4, 24))


def test_a_spec_from_another_policy_is_refused(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-03"])
    shorter = build_policy(period_end=dt.date(2026, 3, 2), version=2)
    with pytest.raises(ReleaseError) as caught:
        plan_release(shorter, spec)
    assert "does not match policy 'test-policy' version 2" in caught.value.message
    gone = build_policy(reports=REPORTS[:1])
    with pytest.raises(ReleaseError, match="not a report in the approved catalogue"):
        plan_release(gone, spec)
