"""A1 — differencing: subtract "the team without v" from "the team" to read v's values.

The catalogue has no query for "team minus v", so the attacker gets it from a neighbouring
installation where v objected (R22): the same team released with and without v. The game is
played over fresh noise for the target's real team (true totals from the installation's store):
the target is in the team for the whole quarter, their weekly e-mails low (0) or high (the
bound every week, the most a clipping block keeps), balanced; the attacker differences the
published team totals. The bound is Φ(μ/2), μ over the team's measured weeks of that metric.

Service-level checks run the same difference through ``services.release`` on two real
installations: exact without noise (teeth), and with noise the kept measurements carry exactly
the σ whose OpenDP cost the ledger charged. Against the store's exact clipped totals, the kept
measurements must spread with the plan's σ (teeth: the sampler at σ/2 while every row reports σ)
and the published totals must sit about their reported SD away from the truth (teeth: totals not
blurred at all while σ and the SDs stay as usual). The empirical ε auditor (``test_auditor.py``)
is part of this attack too.
"""

from __future__ import annotations

import numpy as np
import pytest

from teamlens import services
from teamlens.domain import HEADCOUNT, Cadence, GroupLevel, Window, metric
from teamlens.privacy import ReleaseSpec, Strategy, rho_to_epsilon
from teamlens.privacy import noise as noise_module
from teamlens.privacy._opendp import zcdp_cost

from ..support.exact import exact_mode
from .conftest import Installation, clone, object_from_the_start
from .games import differencing_game
from .harness import directory, members_at
from .replicas import extreme_shift, gaussian_mu, renamed, sigma_of, store_truth, sub_strategy
from .service_checks import half_sigma, kept_residuals, no_noise, released_scores, variance_ratio

REPORT, WINDOW, METRICS = "team-quarterly", "2026-Q1", ["emails_sent"]


def _target(installation: Installation) -> tuple[str, str, int]:
    """The first member of the largest team at the window start: (e-mail, team, members without v)."""
    window = Window(Cadence.QUARTER, WINDOW)
    teams = members_at(directory(installation.org.synth.directory_csv), window.start, "Team")
    team = max(teams, key=lambda name: len(teams[name]))
    return teams[team][0], team, len(teams[team]) - 1


def _game(installation: Installation, policy, strategy: Strategy, configured: Strategy, trials: int):
    email, team, others_count = _target(installation)
    spec = ReleaseSpec.build(policy, REPORT, [WINDOW], METRICS)
    blocks = configured.blocks_for(spec.windows)
    person = installation.ws.pseudonymiser()(email)
    others = renamed(
        store_truth(installation.ws, configured, blocks, exclude=[person]), {("team", team): "T"}
    )
    present = extreme_shift(configured, blocks, {GroupLevel.TEAM: "T"}, metrics=False)
    high = extreme_shift(configured, blocks, {GroupLevel.TEAM: "T"}, headcount=False)
    epsilon = rho_to_epsilon(policy.rho, policy.delta)
    result = differencing_game(
        strategy, configured, spec, present, others, high, trials, epsilon, background=False
    )
    return result, others_count


@pytest.mark.attack("A1")
def test_a1_differencing_guess_is_bounded_by_the_noise(
    pristine: Installation, policy, large, measure
) -> None:
    strategy = sub_strategy(policy, metrics=METRICS, levels=[GroupLevel.TEAM])
    result, others_count = _game(pristine, policy, strategy, strategy, 20_000 if large else 2_000)
    measure(**result.as_measure("a1_"), team_size=others_count + 1)
    assert result.within_bounds, result


@pytest.mark.attack("A1", teeth=True)
def test_a1_teeth_without_noise_the_difference_reveals_v(pristine: Installation, policy, measure) -> None:
    configured = sub_strategy(policy, metrics=METRICS, levels=[GroupLevel.TEAM])
    with exact_mode():
        strategy = sub_strategy(policy, metrics=METRICS, levels=[GroupLevel.TEAM])
        result, _ = _game(pristine, policy, strategy, configured, 200)
    measure(a1_teeth_success=result.success)
    assert result.success == 1.0
    assert not result.within_bounds


def _team_totals(installation: Installation, team: str) -> dict[str, float]:
    table = services.release(installation.ws, REPORT, [WINDOW], actor="manager")
    return {cell.metric: cell.total for cell in table.cells if cell.group == team and cell.total is not None}


@pytest.mark.attack("A1", teeth=True)
def test_a1_teeth_through_the_service_two_exact_installations_give_v_away(
    pristine: Installation, policy, tmp_path
) -> None:
    email, team, _ = _target(pristine)
    with_v, without_v = clone(pristine, tmp_path / "with"), clone(pristine, tmp_path / "without")
    object_from_the_start(without_v, email)
    with exact_mode():
        strategy = Strategy.for_policy(policy)
        blocks = strategy.blocks_for([Window(Cadence.QUARTER, WINDOW)])
        everyone = store_truth(with_v.ws, strategy, blocks)
        others = store_truth(with_v.ws, strategy, blocks, exclude=[with_v.ws.pseudonymiser()(email)])
        totals_with, totals_without = _team_totals(with_v, team), _team_totals(without_v, team)
    weeks = Window(Cadence.QUARTER, WINDOW).weeks
    assert totals_with
    for name, total in totals_with.items():
        plan = strategy.metric_plan(GroupLevel.TEAM, name)
        share = sum(
            everyone.get(("team", team, w, name), 0) - others.get(("team", team, w, name), 0) for w in weeks
        )
        expected = share / plan.scale / metric(name).display_divisor
        assert total - totals_without[name] == pytest.approx(expected, abs=1e-6)
    first = blocks[0].start
    assert (
        everyone[("team", team, first, HEADCOUNT)] - others[("team", team, first, HEADCOUNT)]
        == blocks[0].n_weeks
    )


@pytest.mark.attack("A1")
def test_a1_through_the_service_the_difference_carries_the_charged_noise(
    pristine: Installation, policy, tmp_path, measure
) -> None:
    """Two real installations: what the service measured has the σ whose OpenDP cost it charged."""
    email, _, _ = _target(pristine)
    with_v, without_v = clone(pristine, tmp_path / "with"), clone(pristine, tmp_path / "without")
    object_from_the_start(without_v, email)
    strategy = Strategy.for_policy(policy)
    blocks = strategy.blocks_for([Window(Cadence.QUARTER, WINDOW)])
    for installation in (with_v, without_v):
        table = services.release(installation.ws, REPORT, [WINDOW], actor="manager")
        charged = sum(strategy.block_cost(block).value for block in blocks)
        assert table.rho_charged == pytest.approx(float(charged))
        kept = installation.ws.governance.measurements(
            policy.policy_id, policy.period_start, [b.key for b in blocks]
        )
        for row in kept.to_pylist():
            key = (row["level"], row["group"], row["week"], row["metric"])
            assert row["sigma"] == sigma_of(strategy, key)
        for block in blocks:
            for plan in strategy.metric_plans:
                assert zcdp_cost(plan.sigma, plan.sensitivity(block)) <= strategy.block_rho(plan, block)
    # A worker at every bound, in the largest team and its department, for the whole quarter:
    placement = {GroupLevel.DEPARTMENT: "d", GroupLevel.TEAM: "t"}
    mu = gaussian_mu(strategy, extreme_shift(strategy, blocks, placement))
    measure(a1_service_mu=mu, a1_service_rho=float(charged))
    assert mu**2 <= 2 * float(charged) * (1 + 1e-9)


def _release_q1(installation: Installation) -> list:
    """The template catalogue's first quarter through the service: teams, and departments by month."""
    return [
        services.release(installation.ws, REPORT, [WINDOW], actor="manager"),
        services.release(
            installation.ws, "department-monthly", ["2026-01", "2026-02", "2026-03"], actor="manager"
        ),
    ]


def _q1_blocks(policy) -> tuple:
    return Strategy.for_policy(policy).blocks_for([Window(Cadence.QUARTER, WINDOW)])


# The kept measurements' mean square residual, in units of the plan's σ: ~800 entries, so its SD
# is about √(2/800) = 0.05 and an honest run leaves [0.75, 1.33] with probability < 10⁻⁶; noise at
# half the scale gives 0.25.
NOISE_SCALE = (0.75, 1.33)
# Released totals against the exact store totals, in units of the SD each cell reports: 30 to 60
# shown cells, so an honest mean square under 0.2 has probability < 10⁻⁵ (χ² with 30 degrees of
# freedom under 6); unblurred totals give 0.
BLURRED = 0.2


@pytest.mark.attack("A1")
def test_a1_through_the_service_the_measurements_carry_the_planned_noise_scale(
    fresh: Installation, policy, measure
) -> None:
    """Kept measurements minus the store's exact totals spread with the plan's σ, not less."""
    _release_q1(fresh)
    ratio = variance_ratio(kept_residuals(fresh.ws, policy, _q1_blocks(policy)))
    measure(a1_noise_variance_ratio=ratio)
    assert NOISE_SCALE[0] <= ratio <= NOISE_SCALE[1]


@pytest.mark.attack("A1", teeth=True)
def test_a1_teeth_half_the_noise_scale_in_the_service_is_caught(
    fresh: Installation, policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sampler draws at σ/2 while every row, cell and charge reports σ: the spread gives it away."""
    monkeypatch.setattr(noise_module, "add_discrete_gaussian", half_sigma)
    _release_q1(fresh)
    ratio = variance_ratio(kept_residuals(fresh.ws, policy, _q1_blocks(policy)))
    assert not NOISE_SCALE[0] <= ratio <= NOISE_SCALE[1]
    assert ratio == pytest.approx(0.25, abs=0.1)


@pytest.mark.attack("A1")
def test_a1_through_the_service_released_totals_are_blurred_around_the_store_truth(
    fresh: Installation, policy, measure
) -> None:
    """Published totals differ from the exact clipped totals by about the SD they report."""
    scores = released_scores(fresh.ws, policy, _release_q1(fresh))
    mean_square = float(np.mean(np.square(scores)))
    measure(a1_released_mean_square_score=mean_square, a1_released_cells=len(scores))
    assert mean_square >= BLURRED


@pytest.mark.attack("A1", teeth=True)
def test_a1_teeth_unblurred_totals_with_the_usual_sigma_are_caught(
    fresh: Installation, policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sampler returns the exact totals while σ, the SDs and the charge stay: caught on the cells."""
    monkeypatch.setattr(noise_module, "add_discrete_gaussian", no_noise)
    tables = _release_q1(fresh)
    assert tables[0].rho_charged > 0  # the release looks as charged and as noisy as ever
    scores = released_scores(fresh.ws, policy, tables)
    assert float(np.mean(np.square(scores))) < BLURRED
