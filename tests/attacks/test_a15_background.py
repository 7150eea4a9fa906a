"""A15 — background knowledge: a manager who knows every team member's behaviour but one's.

The A1 game with the attacker given the exact totals of everyone else in the team: they subtract
the known rest from the published team total and guess whether the target's value is low (0) or
high (the bound every week of the quarter). Only the noise stands in the way (k-thresholds do
nothing here), so the bound is the same as A1's: Φ(μ/2) over the team's measured weeks. Teeth:
noise off, the guess is always right.
"""

from __future__ import annotations

import pytest

from teamlens.domain import Cadence, GroupLevel, Window
from teamlens.privacy import ReleaseSpec, Strategy, rho_to_epsilon

from ..support.exact import exact_mode
from .conftest import Installation
from .games import differencing_game
from .harness import directory, members_at
from .replicas import extreme_shift, renamed, store_truth, sub_strategy

REPORT, WINDOW, METRICS = "team-quarterly", "2026-Q1", ["emails_sent"]


def _game(pristine: Installation, policy, strategy: Strategy, configured: Strategy, trials: int):
    window = Window(Cadence.QUARTER, WINDOW)
    teams = members_at(directory(pristine.org.synth.directory_csv), window.start, "Team")
    # The smallest team at or above k: background knowledge matters most where groups are small.
    team = min((name for name in teams if len(teams[name]) >= 10), key=lambda name: len(teams[name]))
    spec = ReleaseSpec.build(policy, REPORT, [WINDOW], METRICS)
    blocks = configured.blocks_for(spec.windows)
    target = pristine.ws.pseudonymiser()(teams[team][0])
    others = renamed(store_truth(pristine.ws, configured, blocks, exclude=[target]), {("team", team): "T"})
    present = extreme_shift(configured, blocks, {GroupLevel.TEAM: "T"}, metrics=False)
    high = extreme_shift(configured, blocks, {GroupLevel.TEAM: "T"}, headcount=False)
    epsilon = rho_to_epsilon(policy.rho, policy.delta)
    result = differencing_game(
        strategy, configured, spec, present, others, high, trials, epsilon, background=True
    )
    return result, len(teams[team])


@pytest.mark.attack("A15")
def test_a15_knowing_everyone_else_leaves_the_same_bound(
    pristine: Installation, policy, large, measure
) -> None:
    strategy = sub_strategy(policy, metrics=METRICS, levels=[GroupLevel.TEAM])
    result, size = _game(pristine, policy, strategy, strategy, 20_000 if large else 2_000)
    measure(**result.as_measure("a15_"), a15_team_size=size)
    assert result.within_bounds, result


@pytest.mark.attack("A15", teeth=True)
def test_a15_teeth_without_noise_background_knowledge_gives_the_target_away(
    pristine: Installation, policy, measure
) -> None:
    configured = sub_strategy(policy, metrics=METRICS, levels=[GroupLevel.TEAM])
    with exact_mode():
        strategy = sub_strategy(policy, metrics=METRICS, levels=[GroupLevel.TEAM])
        result, _ = _game(pristine, policy, strategy, configured, 200)
    measure(a15_teeth_success=result.success)
    assert result.success == 1.0 and not result.within_bounds
