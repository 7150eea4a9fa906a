"""A15 — background knowledge: a manager who knows every team member's behaviour but one's.

The A1 game with the attacker given the exact totals of everyone else in the team: they subtract
the known rest from the released team total and guess whether the target's value is low (0) or
high (every bound). Only the noise stands in the way (k-thresholds do nothing here), so the bound
is the same as A1's. Teeth: noise off, the guess is always right.
"""

from __future__ import annotations

import pytest

from teamlens.domain import Cadence, Window
from teamlens.privacy import rho_to_epsilon
from teamlens.privacy.testing import exact_mode

from .conftest import Installation
from .games import differencing_game
from .harness import directory, members_at, plan_for, store_truth

REPORT, WINDOW = "team-quarterly", "2026-Q1"


def _setup(pristine: Installation, policy):
    window = Window(Cadence.QUARTER, WINDOW)
    teams = members_at(directory(pristine.org.synth.directory_csv), window.start, "Team")
    # The smallest team at or above k: background knowledge matters most where groups are small.
    team = min((name for name in teams if len(teams[name]) >= 10), key=lambda name: len(teams[name]))
    plan = plan_for(policy, REPORT, [WINDOW])
    target = pristine.ws.pseudonymiser()(teams[team][0])
    return plan, store_truth(pristine.ws, plan, team, exclude=[target]), window, len(teams[team]) - 1


@pytest.mark.attack("A15")
def test_a15_knowing_everyone_else_leaves_the_same_bound(
    pristine: Installation, policy, large, measure
) -> None:
    plan, others, window, count = _setup(pristine, policy)
    result = differencing_game(
        policy,
        plan,
        plan,
        others,
        window,
        count,
        20_000 if large else 2_000,
        rho_to_epsilon(policy.rho, policy.delta),
        background=True,
    )
    measure(**result.as_measure("a15_"), a15_team_size=count + 1)
    assert result.within_bounds, result


@pytest.mark.attack("A15", teeth=True)
def test_a15_teeth_without_noise_background_knowledge_gives_the_target_away(
    pristine: Installation, policy, measure
) -> None:
    configured, others, window, count = _setup(pristine, policy)
    with exact_mode():
        plan = plan_for(policy, REPORT, [WINDOW])
        result = differencing_game(
            policy,
            plan,
            configured,
            others,
            window,
            count,
            200,
            rho_to_epsilon(policy.rho, policy.delta),
            background=True,
        )
    measure(a15_teeth_success=result.success)
    assert result.success == 1.0 and not result.within_bounds
