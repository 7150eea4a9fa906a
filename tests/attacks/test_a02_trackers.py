"""A2 — trackers: pairs of allowed queries whose member sets differ by fewer than k people.

The engine's released totals are consistent: a parent's total is exactly the sum of every one of
its children's — including the keys that are never shown, such as the hidden key that holds, at
department level, the people the directory does not place in a department that week. So under a
catalogue that releases the organisation and its departments for the same months, organisation
− Σ shown departments isolates exactly those people: an individual tracker that a k-threshold
cannot stop. The installation's own directory places everyone (its hidden keys hold nobody, and
that is measured), so the attack is played on the worst case: one worker with activity whom the
directory does not place, their e-mails low (0) or high (the bound every week), next to the
installation's real departments.

Pass: the tracker's error has at least 0.9 × the SD that the least squares leaves for that key
(computed here independently, as the generalised least-squares variance of the measurement
tree), and a low/high guess from it stays within Φ(μ/2) for the measurements the worker is in.
Teeth: noise off, the tracker returns the worker's exact value.
"""

from __future__ import annotations

import numpy as np
import pytest

from teamlens.domain import HEADCOUNT, HIDDEN_PREFIX, Cadence, GroupLevel, Window, metric
from teamlens.governance import parse_policy
from teamlens.privacy import ReleaseSpec, Strategy

from ..integration.flow_support import policy_text
from .conftest import Installation
from .harness import accuracy_bound, proportion_tolerance
from .replicas import Unit, extreme_shift, gaussian_mu, plus, renamed, replicate, store_truth, sub_strategy

ORG_MONTHLY = """
[[reports]]
id = "organisation-monthly"
title = "The organisation, month by month"
level = "organisation"
cadence = "month"
metrics = ["emails_sent"]
budget_share = "0.2"
"""
METRIC, WINDOW = "emails_sent", "2026-01"
ORG, DEPARTMENT = GroupLevel.ORGANISATION, GroupLevel.DEPARTMENT


def tracker_policy():
    from .harness import with_reports

    return parse_policy(with_reports(policy_text(), 2, ORG_MONTHLY, {"0.65": "0.45"}), "tracker").policy


def _setup(pristine: Installation, strategy: Strategy):
    """The unit (the organisation, its real departments and one unplaced key), and its truths."""
    spec = ReleaseSpec.build(strategy.policy, "organisation-monthly", [WINDOW], [METRIC])
    blocks = strategy.blocks_for(spec.windows)
    truth = store_truth(pristine.ws, strategy, blocks)
    departments = sorted({group for level, group, _, _ in truth if level == "department"} - {HIDDEN_PREFIX})
    hidden = {key: total for key, total in truth.items() if key[1].startswith(HIDDEN_PREFIX)}
    names = {("organisation", "Organisation"): "O"} | {("department", name): name for name in departments}
    others = renamed(truth, names)
    unit = Unit(
        {ORG: ("O",), DEPARTMENT: (*departments, HIDDEN_PREFIX)},
        {(DEPARTMENT, name): (ORG, "O") for name in (*departments, HIDDEN_PREFIX)},
    )
    placement = {ORG: "O", DEPARTMENT: HIDDEN_PREFIX}
    present = plus(others, extreme_shift(strategy, blocks, placement, metrics=False))
    high = extreme_shift(strategy, blocks, placement, headcount=False)
    return spec, blocks, unit, present, high, hidden


def _tracker(strategy: Strategy, spec, blocks, unit, truth, runs: int) -> np.ndarray:
    """Organisation − Σ shown departments, from the released totals of each run."""
    org = replicate(strategy, blocks, unit, truth, runs)
    window = spec.windows[0].key
    released_org = org.release(spec)[("O", window, METRIC)].total
    departments = ReleaseSpec.build(strategy.policy, "department-monthly", [WINDOW], [METRIC])
    released = org.release(departments)
    shown = sum(np.nan_to_num(cells.total) for (group, *_), cells in released.items())
    return released_org - shown


def least_squares_sd(strategy: Strategy, children: int, weeks: int) -> float:
    """The GLS SD of one child's window total, given the parent's and every child's weekly measurements."""
    parent = strategy.metric_plan(ORG, METRIC)
    child = strategy.metric_plan(DEPARTMENT, METRIC)
    design = np.vstack([np.ones(children), np.eye(children)])
    weights = np.diag([parent.sigma**-2] + [child.sigma**-2] * children)
    covariance = np.linalg.inv(design.T @ weights @ design)
    return float(np.sqrt(weeks * covariance[-1, -1])) / (child.scale * metric(METRIC).display_divisor)


@pytest.mark.attack("A2")
def test_a2_a_worker_the_directory_does_not_place_stays_under_the_noise(
    pristine: Installation, large, measure
) -> None:
    strategy = sub_strategy(tracker_policy(), metrics=[METRIC], levels=[ORG, DEPARTMENT])
    spec, blocks, unit, present, high, hidden = _setup(pristine, strategy)
    runs = 10_000 if large else 1_500
    window = Window(Cadence.MONTH, WINDOW)
    divisor = strategy.metric_plan(DEPARTMENT, METRIC).scale * metric(METRIC).display_divisor
    value = sum(delta for key, delta in high.items() if key[0] == "department") / divisor
    low_runs = _tracker(strategy, spec, blocks, unit, present, runs)
    high_runs = _tracker(strategy, spec, blocks, unit, plus(present, high), runs)
    sd = least_squares_sd(strategy, len(unit.groups[DEPARTMENT]), window.n_weeks)
    error_sd = float(np.std(np.concatenate([low_runs, high_runs - value])))
    right = np.mean(np.concatenate([low_runs < value / 2, high_runs >= value / 2]))
    bound = accuracy_bound(gaussian_mu(strategy, high))
    measure(
        a2_isolated_people_in_the_installation=sorted(
            {total for key, total in hidden.items() if key[3] == HEADCOUNT}
        ),
        a2_error_sd=error_sd,
        a2_least_squares_sd=sd,
        a2_guess_success=float(right),
        a2_guess_bound=bound,
        a2_runs=2 * runs,
    )
    assert all(total == 0 for total in hidden.values())  # the installation's directory places everyone
    assert error_sd >= 0.9 * sd
    assert right <= bound + proportion_tolerance(2 * runs)


@pytest.mark.attack("A2", teeth=True)
def test_a2_teeth_without_noise_the_tracker_returns_the_workers_value(
    pristine: Installation, measure
) -> None:
    from ..support.exact import exact_mode

    with exact_mode():
        strategy = sub_strategy(tracker_policy(), metrics=[METRIC], levels=[ORG, DEPARTMENT])
        spec, blocks, unit, present, high, _ = _setup(pristine, strategy)
        recovered = _tracker(strategy, spec, blocks, unit, plus(present, high), 5)
    divisor = strategy.metric_plan(DEPARTMENT, METRIC).scale * metric(METRIC).display_divisor
    value = sum(delta for key, delta in high.items() if key[0] == "department") / divisor
    measure(a2_teeth_recovered=float(recovered[0]), a2_teeth_truth=value)
    assert recovered == pytest.approx(np.full(5, value))
