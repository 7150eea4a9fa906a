"""A6 — membership inference: was this worker in the release, or out (objected, on leave)?

The game flips a coin per round: the target worker is in their team's release or excluded (an
objection, R22, removes them from every count). The attacker knows every other member's exact
totals and scores each release with the Gaussian likelihood ratio along the target's real
contribution — stronger than a classifier trained on shadow organisations, since it is the
optimal test. Pass: AUC within Φ(μ/√2) (μ from the configured σ) and the requirement's ε bound,
plus 5 standard errors; teeth: noise off, AUC 1. The released payload, through the service and
the web API, holds no headcount.
"""

from __future__ import annotations

import pytest

from teamlens import services
from teamlens.domain import HEADCOUNT, Cadence, Window
from teamlens.privacy import rho_to_epsilon
from teamlens.privacy.testing import exact_mode

from ..integration.flow_support import analyst_client
from .conftest import Installation
from .games import membership_game
from .harness import directory, members_at, plan_for, store_truth
from .test_a09_metadata import _ints

REPORT, WINDOW = "team-quarterly", "2026-Q1"


def _setup(pristine: Installation, policy):
    window = Window(Cadence.QUARTER, WINDOW)
    teams = members_at(directory(pristine.org.synth.directory_csv), window.start, "Team")
    team = sorted((name for name in teams if len(teams[name]) >= 12), key=lambda name: len(teams[name]))[0]
    plan = plan_for(policy, REPORT, [WINDOW])
    target = pristine.ws.pseudonymiser()(teams[team][-1])
    everyone = store_truth(pristine.ws, plan, team)
    others = store_truth(pristine.ws, plan, team, exclude=[target])
    contribution = {key: everyone[key] - others[key] for key in everyone}
    assert contribution[(WINDOW, HEADCOUNT)] == 1
    return plan, others, contribution


@pytest.mark.attack("A6")
def test_a6_membership_auc_is_within_the_dp_bound(pristine: Installation, policy, large, measure) -> None:
    plan, others, target = _setup(pristine, policy)
    result = membership_game(
        plan, plan, others, target, 20_000 if large else 2_000, rho_to_epsilon(policy.rho, policy.delta)
    )
    measure(**result.as_measure("a6_"))
    assert result.within_bounds, result


@pytest.mark.attack("A6", teeth=True)
def test_a6_teeth_without_noise_membership_is_certain(pristine: Installation, policy, measure) -> None:
    configured, others, target = _setup(pristine, policy)
    with exact_mode():
        plan = plan_for(policy, REPORT, [WINDOW])
        result = membership_game(
            plan, configured, others, target, 200, rho_to_epsilon(policy.rho, policy.delta)
        )
    measure(a6_teeth_auc=result.success)
    assert result.success == 1.0
    assert not result.within_bounds


COUNT_NAMES = {"count", "headcount", "members", "member_count", "n", "size", "people", "group_size"}


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in _keys(item)}
    if isinstance(value, list):
        return {k for item in value for k in _keys(item)}
    return set()


@pytest.mark.attack("A6")
def test_a6_no_released_payload_carries_a_headcount(fresh: Installation, measure) -> None:
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
