"""A5 — reconstruction by least squares from every release the catalogue allows in a period.

``synthorg(n)``: n workers in teams of about 12 that reshuffle (a fifth of people move team
each week, far more churn than real organisations have, which is what gives a reconstruction
the varied subsets it needs), each with a binary attribute b_i ("high after-hours": a quarter
of people) that sets their weekly count to the clipping bound or to 0. The catalogue is a
weekly team report of that count over a 13-week quarter at the policy's ρ, measured and derived by
the engine (``measure_block``, then ``derive``). The attacker knows every week's membership (the
org chart), reads every released weekly total (the published noisy total), solves the
least-squares system for each person's weekly value and rounds to {0, 1}.

Pass: the fraction recovered stays within the majority-class baseline + 0.05 for n ∈ {30, 100,
300}. Teeth: noise off, k-suppression only — the same attack recovers nearly everyone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
import pytest

from teamlens.domain import HEADCOUNT, Cadence, GroupLevel, ReportDef, Rho
from teamlens.privacy import ReleaseSpec, Strategy

from ..support.exact import exact_mode
from .conftest import template_policy
from .replicas import Unit, replicate

WEEKS = [f"2026-W{week:02d}" for week in range(1, 14)]
BOUND = 100  # emails_sent per week in the template policy
HIGH_SHARE = 0.25


@dataclass(frozen=True)
class SynthOrg:
    """Weekly team membership and each person's binary attribute."""

    team_of: np.ndarray  # weeks × people, team index
    attribute: np.ndarray  # people, 0 or 1


def synthorg(n: int, seed: int) -> SynthOrg:
    rng = np.random.default_rng(seed)
    teams = max(n // 12, 2)
    team_of = np.empty((len(WEEKS), n), dtype=int)
    team_of[0] = rng.permutation(np.arange(n) % teams)
    for week in range(1, len(WEEKS)):
        team_of[week] = team_of[week - 1]
        movers = rng.random(n) < 0.2
        team_of[week, movers] = rng.integers(0, teams, movers.sum())
    return SynthOrg(team_of, (rng.random(n) < HIGH_SHARE).astype(int))


def _policy(rho: str):
    weekly = ReportDef("team-weekly", "Teams", GroupLevel.TEAM, Cadence.WEEK, ("emails_sent",), Fraction(1))
    return replace(template_policy(), reports=(weekly,), rho=Rho.of(rho))


def reconstruct(org: SynthOrg, rho: str = "1.5") -> float:
    """Release every week of the catalogue for ``org``, reconstruct, and return the share recovered."""
    policy = _policy(rho)
    strategy = Strategy.for_policy(policy)
    spec = ReleaseSpec.build(policy, "team-weekly", WEEKS)
    blocks = strategy.blocks_for(spec.windows)
    plan = strategy.metric_plan(GroupLevel.TEAM, "emails_sent")
    n = org.team_of.shape[1]
    teams = int(org.team_of.max()) + 1
    groups = tuple(f"t{team:03d}" for team in range(teams))
    truth: dict = {}
    for w in range(len(WEEKS)):
        monday = spec.windows[w].start
        block = strategy.block_of(monday)
        for team in range(teams):
            members = org.team_of[w] == team
            truth[("team", groups[team], monday, "emails_sent")] = (
                int(org.attribute[members].sum()) * BOUND * plan.scale
            )
            if strategy.span_of(block).first == block:  # person-weeks of the span's first block
                count = ("team", groups[team], block.start, HEADCOUNT)
                truth[count] = truth.get(count, 0) + int(members.sum())
    # One run of one organisation: the unit is the whole organisation.
    released = replicate(strategy, blocks, Unit({GroupLevel.TEAM: groups}), truth, 1).release(spec)
    equations, targets = [], []
    for (group, window, _), cell in released.items():
        if np.isnan(cell.total[0]):
            continue  # suppressed: the attacker has nothing for this team and week
        members = org.team_of[WEEKS.index(window)] == groups.index(group)
        row = np.zeros(n)
        row[members] = 1.0
        equations.append(row)
        targets.append(cell.total[0] / BOUND)  # the published total, in bound units
    if not equations:
        return float(np.mean(org.attribute == 0))
    solution, *_ = np.linalg.lstsq(np.array(equations), np.array(targets), rcond=None)
    return float(np.mean((solution > 0.5).astype(int) == org.attribute))


def _baseline(org: SynthOrg) -> float:
    return float(max(org.attribute.mean(), 1 - org.attribute.mean()))


@pytest.mark.attack("A5")
@pytest.mark.parametrize("n", [30, 100, 300])
def test_a5_least_squares_reconstruction_does_no_better_than_the_baseline(n: int, large, measure) -> None:
    orgs = [synthorg(n, seed) for seed in range(20 if large else 5)]
    recovered = np.mean([reconstruct(org) for org in orgs])
    baseline = np.mean([_baseline(org) for org in orgs])
    measure(**{f"a5_n{n}_recovered": float(recovered), f"a5_n{n}_baseline": float(baseline)})
    assert recovered <= baseline + 0.05


@pytest.mark.attack("A5", teeth=True)
@pytest.mark.parametrize("n", [30, 100, 300])
def test_a5_teeth_without_noise_least_squares_recovers_the_attribute(n: int, measure) -> None:
    orgs = [synthorg(n, seed) for seed in range(5)]
    with exact_mode():
        recovered = np.mean([reconstruct(org) for org in orgs])
    measure(**{f"a5_teeth_n{n}_recovered": float(recovered)})
    assert recovered >= 0.9
