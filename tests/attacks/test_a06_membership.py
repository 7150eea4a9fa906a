"""A6 — membership inference: was this worker in the release, or out (objected, on leave)?

The game flips a coin per round: the target worker is in their team's release or excluded (an
objection, R22, removes them from every count). The attacker knows every other member's exact
totals and scores each release with the Gaussian likelihood ratio along the target's real
contribution, over every measurement the target is in (each week's total and the span's
headcount) — stronger than a classifier trained on shadow organisations, since it is the
optimal test. Pass: AUC within Φ(μ/√2) (μ from the configured σ) and the requirement's ε bound,
plus 5 standard errors; teeth: noise off, AUC 1.

The released payload carries, with each mean, the noisy total and the noisy person-weeks it is
divided by (and their SDs), so that anyone can recompute the interval: that *is* a noisy
headcount, published on purpose (post-processing of a DP measurement). What must never appear
is a true count: no field is named like one, and the published person-weeks are spread around
the true ones by at least the configured headcount noise (over many runs), not equal to them.
Teeth: noise off, the published person-weeks are the true ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from teamlens import services
from teamlens.domain import HEADCOUNT, Cadence, GroupLevel, Window
from teamlens.privacy import ReleaseSpec, Strategy, rho_to_epsilon

from ..integration.flow_support import analyst_client
from ..support.exact import exact_mode
from .conftest import Installation
from .games import TEAM, membership_game
from .harness import directory, members_at
from .replicas import plus, renamed, replicate, sigma_of, store_truth, sub_strategy
from .test_a09_metadata import _ints

REPORT, WINDOW, METRICS = "team-quarterly", "2026-Q1", ["emails_sent"]


def _setup(pristine: Installation, policy, strategy: Strategy, pick=min):
    """The smallest team of at least 12 (``pick=max``: the largest team), its others and the target."""
    window = Window(Cadence.QUARTER, WINDOW)
    teams = members_at(directory(pristine.org.synth.directory_csv), window.start, "Team")
    team = pick((name for name in teams if len(teams[name]) >= 12), key=lambda name: len(teams[name]))
    spec = ReleaseSpec.build(policy, REPORT, [WINDOW], METRICS)
    blocks = strategy.blocks_for(spec.windows)
    target = pristine.ws.pseudonymiser()(teams[team][-1])
    names = {("team", team): "T"}
    everyone = renamed(store_truth(pristine.ws, strategy, blocks), names)
    others = renamed(store_truth(pristine.ws, strategy, blocks, exclude=[target]), names)
    contribution = {key: everyone.get(key, 0) - others.get(key, 0) for key in everyone}
    assert contribution[("team", "T", blocks[0].start, HEADCOUNT)] == blocks[0].n_weeks
    return spec, others, contribution


@pytest.mark.attack("A6")
def test_a6_membership_auc_is_within_the_dp_bound(pristine: Installation, policy, large, measure) -> None:
    strategy = sub_strategy(policy, metrics=METRICS, levels=[GroupLevel.TEAM])
    spec, others, target = _setup(pristine, policy, strategy)
    epsilon = rho_to_epsilon(policy.rho, policy.delta)
    result = membership_game(strategy, strategy, spec, others, target, 20_000 if large else 2_000, epsilon)
    measure(**result.as_measure("a6_"))
    assert result.within_bounds, result


@pytest.mark.attack("A6", teeth=True)
def test_a6_teeth_without_noise_membership_is_certain(pristine: Installation, policy, measure) -> None:
    configured = sub_strategy(policy, metrics=METRICS, levels=[GroupLevel.TEAM])
    spec, others, target = _setup(pristine, policy, configured)
    with exact_mode():
        strategy = sub_strategy(policy, metrics=METRICS, levels=[GroupLevel.TEAM])
        result = membership_game(
            strategy, configured, spec, others, target, 200, rho_to_epsilon(policy.rho, policy.delta)
        )
    measure(a6_teeth_auc=result.success)
    assert result.success == 1.0
    assert not result.within_bounds


def published_person_weeks(
    pristine: Installation, policy, strategy: Strategy, runs: int
) -> tuple[np.ndarray, float]:
    """The largest team's published person-weeks over ``runs`` releases (it is never suppressed, so
    the spread is not cut), and the true person-weeks."""
    spec, others, target = _setup(pristine, policy, strategy, pick=max)
    truth = plus(others, target)
    blocks = strategy.blocks_for(spec.windows)
    cells = replicate(strategy, blocks, TEAM, truth, runs).release(spec)[("T", WINDOW, METRICS[0])]
    first = blocks[0]
    true = truth[("team", "T", first.start, HEADCOUNT)] * spec.windows[0].n_weeks / first.n_weeks
    return cells.person_weeks, true


@pytest.mark.attack("A6")
def test_a6_published_person_weeks_are_noisy_never_the_true_count(
    pristine: Installation, policy, measure
) -> None:
    strategy = sub_strategy(policy, metrics=METRICS, levels=[GroupLevel.TEAM])
    published, true = published_person_weeks(pristine, policy, strategy, 2_000)
    first = strategy.blocks[0]
    configured = sigma_of(strategy, ("team", "T", first.start, HEADCOUNT)) * 13 / first.n_weeks
    shown = published[~np.isnan(published)]
    spread = float(np.sqrt(np.mean((shown - true) ** 2)))
    measure(a6_person_weeks_rmse=spread, a6_person_weeks_configured_sd=configured, a6_true_person_weeks=true)
    assert len(shown) == len(published)
    assert spread >= 0.9 * configured


@pytest.mark.attack("A6", teeth=True)
def test_a6_teeth_without_noise_the_published_person_weeks_are_the_true_count(
    pristine: Installation, policy
) -> None:
    with exact_mode():
        strategy = sub_strategy(policy, metrics=METRICS, levels=[GroupLevel.TEAM])
        published, true = published_person_weeks(pristine, policy, strategy, 20)
    assert np.all(published == true)


COUNT_NAMES = {"count", "headcount", "members", "member_count", "n", "size", "people", "group_size"}


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in _keys(item)}
    if isinstance(value, list):
        return {k for item in value for k in _keys(item)}
    return set()


@pytest.mark.attack("A6")
def test_a6_no_released_payload_names_a_count(fresh: Installation, measure) -> None:
    table = services.release(fresh.ws, REPORT, [WINDOW], actor="manager")
    assert HEADCOUNT not in table.metrics
    assert all(cell.metric != HEADCOUNT for cell in table.cells)
    policy, tables = services.released_tables(fresh.ws)
    payload = services.tables_as_json(policy, tables)
    api = analyst_client(fresh.ws).get("/api/releases").json()
    found = (_keys(payload) | _keys(api)) & COUNT_NAMES
    measure(a6_count_fields=sorted(found))
    assert found == set()
    # The only integers in the payloads are the policy's version and its public minimum group size.
    integers = {path for path, _ in _ints(payload)} | {path for path, _ in _ints(api)}
    measure(a6_integer_fields=sorted(integers))
    assert integers <= {".policy.version", ".policy.min_group_size"}
