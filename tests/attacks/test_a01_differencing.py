"""A1 — differencing: subtract "the team without v" from "the team" to read v's values.

The catalogue has no query for "team minus v", so the attacker gets it from a neighbouring
installation where v objected (R22): the same team released with and without v. The game is
played over fresh noise for the target's real team (true totals from the installation's store);
the target's value is drawn low (0) or high (every clipping bound), balanced.

A service-level check shows the same difference through ``services.release`` on two real
installations: exact without noise (teeth), blurred by at least the configured σ with it.
"""

from __future__ import annotations

import pytest

from teamlens import services
from teamlens.domain import HEADCOUNT, Cadence, Window
from teamlens.privacy import rho_to_epsilon
from teamlens.privacy.testing import exact_mode

from .auditor import (
    empirical_epsilon,
    gaussian_shift,
    likelihood_statistic,
    replicate,
    statistic_mean,
    threshold_grid,
)
from .conftest import Installation, clone, object_from_the_start
from .games import differencing_game
from .harness import directory, extreme_shift, members_at, plan_for, plus, store_truth

REPORT, WINDOW = "team-quarterly", "2026-Q1"


def _target(installation: Installation) -> tuple[str, str, int]:
    """The first member of the largest team at the window start: (e-mail, team, members without v)."""
    window = Window(Cadence.QUARTER, WINDOW)
    teams = members_at(directory(installation.org.synth.directory_csv), window.start, "Team")
    team = max(teams, key=lambda name: len(teams[name]))
    return teams[team][0], team, len(teams[team]) - 1


@pytest.mark.attack("A1")
def test_a1_differencing_guess_is_bounded_by_the_noise(
    pristine: Installation, policy, large, measure
) -> None:
    email, team, others_count = _target(pristine)
    plan = plan_for(policy, REPORT, [WINDOW])
    pseudonym = pristine.ws.pseudonymiser()(email)
    others = store_truth(pristine.ws, plan, team, exclude=[pseudonym])
    epsilon = rho_to_epsilon(policy.rho, policy.delta)
    window = Window(Cadence.QUARTER, WINDOW)
    result = differencing_game(
        policy,
        plan,
        plan,
        others,
        window,
        others_count,
        20_000 if large else 2_000,
        epsilon,
        background=False,
    )
    measure(**result.as_measure("a1_"), team_size=others_count + 1)
    assert result.within_bounds, result


@pytest.mark.attack("A1")
def test_a1_empirical_epsilon_of_team_with_and_without_v(
    pristine: Installation, policy, large, measure
) -> None:
    email, team, _ = _target(pristine)
    plan = plan_for(policy, REPORT, [WINDOW])
    others = store_truth(pristine.ws, plan, team, exclude=[pristine.ws.pseudonymiser()(email)])
    shift = extreme_shift(plan, headcount=1)
    runs = 100_000 if large else 10_000
    on_d = likelihood_statistic(plan, replicate(plan, plus(others, shift), runs), shift)
    on_d_prime = likelihood_statistic(plan, replicate(plan, others, runs), shift)
    mu = gaussian_shift(plan, shift)
    centre = statistic_mean(plan, others, shift)
    audit = empirical_epsilon(on_d, on_d_prime, threshold_grid([centre, centre + mu * mu], mu), rho=plan.cost)
    measure(a1_empirical_epsilon=audit.as_dict())
    assert not audit.exceeded, audit


@pytest.mark.attack("A1", teeth=True)
def test_a1_teeth_without_noise_the_difference_reveals_v(pristine: Installation, policy, measure) -> None:
    email, team, others_count = _target(pristine)
    configured = plan_for(policy, REPORT, [WINDOW])
    others = store_truth(pristine.ws, configured, team, exclude=[pristine.ws.pseudonymiser()(email)])
    with exact_mode():
        plan = plan_for(policy, REPORT, [WINDOW])
        result = differencing_game(
            policy,
            plan,
            configured,
            others,
            Window(Cadence.QUARTER, WINDOW),
            others_count,
            200,
            rho_to_epsilon(policy.rho, policy.delta),
            background=False,
        )
    measure(a1_teeth_success=result.success)
    assert result.success == 1.0
    assert not result.within_bounds


def _team_release(installation: Installation, team: str) -> dict[str, float]:
    table = services.release(installation.ws, REPORT, [WINDOW], actor="manager")
    return {cell.metric: cell.value for cell in table.cells if cell.group == team and cell.value is not None}


@pytest.mark.attack("A1", teeth=True)
def test_a1_teeth_through_the_service_two_exact_installations_give_v_away(
    pristine: Installation, tmp_path
) -> None:
    email, team, others_count = _target(pristine)
    with_v, without_v = clone(pristine, tmp_path / "with"), clone(pristine, tmp_path / "without")
    object_from_the_start(without_v, email)
    plan = plan_for(policy_of(with_v), REPORT, [WINDOW])
    truth_v = {
        key: total - rest
        for (key, total), rest in zip(
            store_truth(with_v.ws, plan, team).items(),
            store_truth(with_v.ws, plan, team, exclude=[with_v.ws.pseudonymiser()(email)]).values(),
            strict=True,
        )
    }
    with exact_mode():
        means_with, means_without = _team_release(with_v, team), _team_release(without_v, team)
    window = Window(Cadence.QUARTER, WINDOW)
    from teamlens.domain import metric

    for name, mean in means_with.items():
        recovered = mean * (others_count + 1) - means_without[name] * others_count
        expected = truth_v[(WINDOW, name)] / window.n_weeks / metric(name).display_divisor
        assert recovered == pytest.approx(expected, abs=1e-6)
    assert truth_v[(WINDOW, HEADCOUNT)] == 1


@pytest.mark.attack("A1")
def test_a1_through_the_service_the_difference_carries_the_configured_noise(
    pristine: Installation, tmp_path
) -> None:
    """One real pair of installations: the released tables say how noisy the difference is."""
    email, _, _ = _target(pristine)
    with_v, without_v = clone(pristine, tmp_path / "with"), clone(pristine, tmp_path / "without")
    object_from_the_start(without_v, email)
    first = services.release(with_v.ws, REPORT, [WINDOW], actor="manager")
    second = services.release(without_v.ws, REPORT, [WINDOW], actor="manager")
    configured = plan_for(policy_of(with_v), REPORT, [WINDOW])
    for table in (first, second):
        sigma = {(noise.window, noise.metric): noise.sigma_total for noise in table.noise}
        for cell in configured.cells:
            assert sigma[(cell.window.key, cell.metric)] == pytest.approx(cell.sigma)
            assert cell.sigma >= cell.bound / (2 * float(cell.rho)) ** 0.5 * (1 - 1e-9)
    assert gaussian_shift(configured, extreme_shift(configured, headcount=1)) ** 2 <= 2 * float(
        configured.cost
    ) * (1 + 1e-9)


def policy_of(installation: Installation):
    """The installation's active policy."""
    return installation.ws.governance.require_active_policy("attack").policy
