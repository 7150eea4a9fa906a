from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import pytest

from teamlens.domain import HEADCOUNT, Policy, Rho
from teamlens.errors import ReleaseError
from teamlens.privacy import ReleaseSpec, assemble, expected_half_width, plan_release

from .support import build_policy, noisy_table


def _by_hand(rho_cell: Fraction, per_week_display: float, value: float, size: int) -> float:
    sigma_weekly_total = per_week_display / math.sqrt(2 * float(rho_cell))
    sigma_count = 1 / math.sqrt(2 * float(rho_cell))
    return 1.959964 * math.sqrt(sigma_weekly_total**2 + (value * sigma_count) ** 2) / size


@pytest.mark.parametrize(
    ("report_id", "metric", "rho_cell", "per_week_display"),
    [
        ("department_monthly", "meeting_minutes", Fraction(1, 24), 40.0),
        ("team_weekly", "emails_sent", Fraction(1, 156), 500.0),
        ("organisation_quarterly", "collaboration_minutes", Fraction(1, 8), 50.0),
    ],
)
def test_the_forecast_matches_the_formula(
    policy: Policy, report_id: str, metric: str, rho_cell: Fraction, per_week_display: float
) -> None:
    forecast = expected_half_width(policy, report_id, 30, 12.0, metric)
    assert forecast == pytest.approx(_by_hand(rho_cell, per_week_display, 12.0, 30), rel=1e-6)


def test_doubling_the_group_halves_the_error_and_more_budget_shrinks_it(policy: Policy) -> None:
    small = expected_half_width(policy, "department_monthly", 20, 10.0, "meeting_minutes")
    assert expected_half_width(policy, "department_monthly", 40, 10.0, "meeting_minutes") == pytest.approx(
        small / 2
    )
    richer = build_policy(rho=Rho.of("4"))
    assert expected_half_width(richer, "department_monthly", 20, 10.0, "meeting_minutes") == pytest.approx(
        small / 2
    )


def test_the_forecast_is_the_half_width_a_release_will_show(policy: Policy) -> None:
    """Planner and release use one formula: a group exactly at its typical value gets the forecast."""
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-02"], ["meeting_minutes"])
    plan = plan_release(policy, spec)
    sigma_t = plan.cells[0].sigma
    sigma_c = plan.cells[1].sigma
    size, weekly_hours = 40, 12.0
    total = round(weekly_hours * 60 * 4 * size)
    noisy = noisy_table(
        [("g", "2026-02", "meeting_minutes", total, sigma_t), ("g", "2026-02", HEADCOUNT, size, sigma_c)]
    )
    table = assemble(
        policy,
        spec,
        noisy,
        release_id="r",
        released_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
        rho_charged=plan.cost,
    )
    (cell,) = table.cells
    assert cell.upper is not None
    assert cell.lower is not None
    forecast = expected_half_width(policy, "department_monthly", size, weekly_hours, "meeting_minutes")
    assert (cell.upper - cell.lower) / 2 == pytest.approx(forecast, rel=1e-9)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("nope", 20, 1.0, "emails_sent"), "not a report in the approved catalogue"),
        (
            ("team_weekly", 20, 1.0, "after_hours_minutes"),
            "does not include the metric 'after_hours_minutes'",
        ),
        (("team_weekly", 0, 1.0, "emails_sent"), "group size must be at least 1"),
        (("team_weekly", 20, -1.0, "emails_sent"), "typical weekly value must be zero or more"),
        (("team_weekly", 20, float("nan"), "emails_sent"), "typical weekly value must be zero or more"),
    ],
)
def test_bad_planner_questions_are_refused(
    policy: Policy, args: tuple[str, int, float, str], problem: str
) -> None:
    with pytest.raises(ReleaseError, match=problem):
        expected_half_width(policy, *args)
