"""A3 — time-window and churn differencing.

(a) Only whole, aligned windows of a report's own cadence inside the policy period can be asked
for: 50 random date ranges, single days, shifted and foreign-cadence keys are refused through the
service and the CLI, and nothing is charged. (b) A joiner: the attacker knows the rest of the
team exactly and combines every weekly release from the joining week on; the accuracy of the
low/high guess must stay within the bound of the *whole-period* budget of the vectors it reads
(√(2ρ) of that metric's team-level weekly measurements over the period). The teeth case
calibrates every week as a bucket of its own with that whole budget (as if per-bucket ε were the
user-level budget, forgetting that weeks and blocks compose): the engine's own check refuses
such a strategy, and with the check removed the same game beats the bound.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

import pytest

from teamlens import services
from teamlens.cli import main
from teamlens.domain import GroupLevel
from teamlens.errors import InternalError, ReleaseError
from teamlens.privacy import ReleaseSpec, Strategy, rho_to_epsilon
from teamlens.privacy import noise as noise_module
from teamlens.privacy._opendp import calibrate_sigma

from .conftest import Installation, template_policy
from .games import TEAM, series_game
from .harness import directory, members_at
from .replicas import extreme_shift, plus, renamed, replicate, store_truth, sub_strategy

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


METRIC = "emails_sent"
WEEKS = [f"2026-W{week:02d}" for week in range(1, 14)]


def _joiner_game(pristine: Installation, strategy: Strategy | None = None, trials: int = 2_000):
    policy = template_policy(**WEEKLY)
    configured = sub_strategy(policy, metrics=[METRIC], levels=[GroupLevel.TEAM])
    spec = ReleaseSpec.build(policy, "team-weekly", WEEKS, [METRIC])
    blocks = configured.blocks_for(spec.windows)
    teams = members_at(directory(pristine.org.synth.directory_csv), dt.date(2025, 12, 29), "Team")
    team = max(teams, key=lambda name: len(teams[name]))
    others = renamed(store_truth(pristine.ws, configured, blocks), {("team", team): "T"})
    present = {window.weeks[0] for window in spec.windows[4:]}  # joins in week 5
    low = plus(
        others, extreme_shift(configured, blocks, {GroupLevel.TEAM: "T"}, weeks=present, metrics=False)
    )
    shift = extreme_shift(configured, blocks, {GroupLevel.TEAM: "T"}, weeks=present, headcount=False)
    # Everything a person can lose through these vectors in the whole period.
    period_mu = (2 * float(configured.metric_plan(GroupLevel.TEAM, METRIC).rho)) ** 0.5
    epsilon = rho_to_epsilon(policy.rho, policy.delta)
    return series_game(strategy or configured, configured, spec, low, shift, trials, epsilon, period_mu)


@pytest.mark.attack("A3")
def test_a3_joiner_series_is_bounded_by_the_period_budget(pristine: Installation, large, measure) -> None:
    result = _joiner_game(pristine, trials=20_000 if large else 2_000)
    measure(**result.as_measure("a3_joiner_"))
    assert result.within_bounds, result


def per_bucket(strategy: Strategy) -> Strategy:
    """The pitfall: every week calibrated as if it alone had the metric's whole-period budget."""
    plans = tuple(
        replace(plan, sigma=calibrate_sigma(plan.scale * plan.per_week, plan.rho))
        for plan in strategy.metric_plans
    )
    return replace(strategy, metric_plans=plans)


@pytest.mark.attack("A3", teeth=True)
def test_a3_teeth_a_per_bucket_budget_lets_the_series_reveal_the_joiner(
    pristine: Installation, monkeypatch: pytest.MonkeyPatch, measure
) -> None:
    policy = template_policy(**WEEKLY)
    weakened = per_bucket(sub_strategy(policy, metrics=[METRIC], levels=[GroupLevel.TEAM]))
    block = weakened.blocks[1]
    with pytest.raises(InternalError, match="costs more than its share"):
        replicate(weakened, [block], TEAM, {}, 1)  # the engine refuses to measure with it
    monkeypatch.setattr(noise_module, "_check_noise", lambda *args: None)
    result = _joiner_game(pristine, weakened)
    measure(a3_teeth_success=result.success, a3_teeth_bound=result.gaussian_bound)
    assert not result.within_bounds, result
