"""A3 — time-window and churn differencing.

(a) Only whole, aligned windows of a report's own cadence inside the policy period can be asked
for: 50 random date ranges, single days, shifted and foreign-cadence keys are refused through the
service and the CLI, and nothing is charged. (b) A joiner: the attacker knows the rest of the
team exactly and combines every weekly release from the joining week on; the accuracy of the
low/high guess must stay within the bound of the report's *whole-period* budget. The teeth case
splits the budget per bucket instead (each week gets the whole report's share, as if the
per-bucket ε were the user-level budget), and the same check must fail.
"""

from __future__ import annotations

import datetime as dt
import random
from fractions import Fraction

import pytest

from teamlens import services
from teamlens.cli import main
from teamlens.errors import ReleaseError
from teamlens.privacy import budget as budget_module
from teamlens.privacy import plan as plan_module
from teamlens.privacy import rho_to_epsilon

from .conftest import Installation, template_policy
from .games import series_game
from .harness import directory, members_at, plan_for, store_truth

WEEKLY = {
    'id = "team-quarterly"': 'id = "team-weekly"',
    'cadence = "quarter"': 'cadence = "week"',
}


def _random_ranges(seed: int, count: int) -> list[str]:
    """Unaligned requests: date ranges, single days, shifted or foreign-cadence keys, outside the period."""
    rng = random.Random(seed)
    start = dt.date(2025, 12, 29)
    forms = []
    for _ in range(count):
        first = start + dt.timedelta(days=rng.randrange(0, 170))
        last = first + dt.timedelta(days=rng.randrange(1, 40))
        forms.append(
            rng.choice(
                [
                    f"{first.isoformat()}/{last.isoformat()}",
                    f"{first.isoformat()}..{last.isoformat()}",
                    first.isoformat(),
                    f"{first.isocalendar().year}-W{first.isocalendar().week:02d}",
                    # a week, then a quarter, for a monthly report
                    f"{first.year}-Q{(first.month - 1) // 3 + 1}",  # a quarter for a monthly report
                    f"{first.year}-{first.month:02d}-{first.day:02d}T00:00",
                    f"{rng.choice([2024, 2025, 2027])}-{rng.randrange(1, 13):02d}",  # outside the period
                    f"2026-{first.month:02d}+{rng.randrange(1, 6)}d",
                ]
            )
        )
    return forms


@pytest.mark.attack("A3")
def test_a3_unaligned_windows_are_refused_and_cost_nothing(fresh: Installation, measure, capsys) -> None:
    requests = _random_ranges(seed=3, count=50)
    refused = 0
    for request in requests:
        with pytest.raises(ReleaseError):
            services.release(fresh.ws, "department-monthly", [request], actor="analyst")
        refused += 1
    # The same through the command line: a refusal is exit code 6 and nothing is released.
    data = str(fresh.ws.settings.data_dir)
    for request in requests[:5]:
        with pytest.raises(SystemExit) as done:
            main(["release", "department-monthly", "--window", request, "--data-dir", data])
        assert done.value.code == ReleaseError.exit_code
    capsys.readouterr()
    policy = fresh.ws.governance.require_active_policy("attack").policy
    assert fresh.ws.governance.spent(policy.policy_id, policy.period_start).value == 0
    assert fresh.ws.governance.releases() == []
    # An aligned month is accepted: the refusals above are about alignment, not a broken service.
    services.release(fresh.ws, "department-monthly", ["2026-02"], actor="analyst")
    measure(a3_unaligned_refused=refused, a3_unaligned_tried=len(requests))


def _joiner_game(pristine: Installation):
    policy = template_policy(**WEEKLY)
    weeks = [f"2026-W{week:02d}" for week in range(1, 14)]
    plan = plan_for(policy, "team-weekly", weeks, ["emails_sent", "chat_messages"])
    teams = members_at(directory(pristine.org.synth.directory_csv), dt.date(2025, 12, 29), "Team")
    team = max(teams, key=lambda name: len(teams[name]))
    others = store_truth(pristine.ws, plan, team)
    report = policy.report("team-weekly")
    # The report's whole-period budget bounds everything a person can lose through it.
    period_rho = float(policy.rho.value * report.budget_share)
    period_mu = (2 * period_rho) ** 0.5
    return policy, plan, others, weeks[4:], period_mu


@pytest.mark.attack("A3")
def test_a3_joiner_series_is_bounded_by_the_period_budget(pristine: Installation, large, measure) -> None:
    policy, plan, others, present, period_mu = _joiner_game(pristine)
    epsilon = rho_to_epsilon(policy.rho, policy.delta)
    result = series_game(plan, plan, others, present, 20_000 if large else 2_000, epsilon, period_mu)
    measure(**result.as_measure("a3_joiner_"))
    assert result.within_bounds, result


def _per_bucket_rho(policy, report) -> Fraction:
    """The pitfall: every window gets the report's whole share, as if buckets did not compose."""
    return policy.rho.value * report.budget_share / (len(set(report.metrics)) + 1)


@pytest.mark.attack("A3", teeth=True)
def test_a3_teeth_a_per_bucket_budget_lets_the_series_reveal_the_joiner(
    pristine: Installation, monkeypatch: pytest.MonkeyPatch, measure
) -> None:
    policy, configured, others, present, period_mu = _joiner_game(pristine)
    monkeypatch.setattr(plan_module, "cell_rho", _per_bucket_rho)
    monkeypatch.setattr(budget_module, "cell_rho", _per_bucket_rho)
    weakened = plan_for(
        policy,
        "team-weekly",
        [f"2026-W{week:02d}" for week in range(1, 14)],
        ["emails_sent", "chat_messages"],
    )
    assert weakened.cells[0].sigma < configured.cells[0].sigma
    result = series_game(
        weakened, configured, others, present, 2_000, rho_to_epsilon(policy.rho, policy.delta), period_mu
    )
    measure(a3_teeth_success=result.success, a3_teeth_bound=result.gaussian_bound)
    assert not result.within_bounds, result
