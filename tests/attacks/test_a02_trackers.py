"""A2 — trackers: pairs of allowed queries whose member sets differ by fewer than k people.

Under a catalogue that releases the organisation and its departments for the same months, the
organisation counts everyone with activity in the month while a department counts the people it
had at the month's start, so organisation − Σ departments isolates the month's mid-month joiners
(an individual tracker a k-threshold cannot stop). The search enumerates every query the
catalogue can express, with member sets from the org chart. Pass: either no pair isolates fewer
than k people, or the isolated value's mean absolute error is at least 0.9 × what the DP noise
alone gives. Teeth: noise off (k-threshold only), the tracker returns the joiner's exact value.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from teamlens import services
from teamlens.domain import Cadence, Window
from teamlens.governance import parse_policy
from teamlens.privacy.testing import exact_mode

from ..integration.flow_support import approve_policy, policy_text
from .auditor import replicate
from .conftest import Installation
from .harness import (
    attacker_totals,
    directory,
    employed_during,
    members_at,
    plan_for,
    released_cells,
    store_truth,
    with_reports,
)

ORG_MONTHLY = """
[[reports]]
id = "organisation-monthly"
title = "The organisation, month by month"
level = "organisation"
cadence = "month"
metrics = ["emails_sent"]
budget_share = "0.2"
"""
METRIC = "emails_sent"
DATA_END = dt.date(2026, 3, 30)  # the pristine organisation's 13 weeks of exports


def tracker_policy_text() -> str:
    return with_reports(policy_text(), 2, ORG_MONTHLY, {"0.7": "0.5"})


def trackers(installation: Installation, policy) -> list[tuple[str, list[str]]]:
    """Same-window pairs (organisation, Σ departments) whose member sets differ by 1 … k−1 people."""
    frame = directory(installation.org.synth.directory_csv)
    found = []
    for window in policy.windows(Cadence.MONTH):
        if window.end > DATA_END:
            continue  # no exports cover it: the organisation's membership comes from activity
        everyone = set(employed_during(frame, window))
        placed = {p for people in members_at(frame, window.start, "Department").values() for p in people}
        isolated = sorted(everyone ^ placed)
        if 0 < len(isolated) < policy.min_group_size:
            found.append((window.key, isolated))
    return found


def _tracker_error(
    installation: Installation, policy, window_key: str, isolated: list[str], runs: int
) -> dict[str, float]:
    window = Window(Cadence.MONTH, window_key)
    frame = directory(installation.org.synth.directory_csv)
    departments = members_at(frame, window.start, "Department")
    org_plan = plan_for(policy, "organisation-monthly", [window_key])
    dept_plan = plan_for(policy, "department-monthly", [window_key], [METRIC])
    org_truth = store_truth(installation.ws, org_plan, "Organisation")
    org_count = len(employed_during(frame, window))
    estimate = attacker_totals(
        released_cells(policy, org_plan, replicate(org_plan, org_truth, runs)), METRIC, org_count, window
    )
    true_rest = 0
    for department, people in departments.items():
        truth = store_truth(installation.ws, dept_plan, department)
        true_rest += truth[(window_key, METRIC)]
        estimate = estimate - attacker_totals(
            released_cells(policy, dept_plan, replicate(dept_plan, truth, runs)), METRIC, len(people), window
        )
    true_value = org_truth[(window_key, METRIC)] - true_rest
    errors = estimate[~np.isnan(estimate)] - true_value
    sigma_org = next(c.sigma for c in org_plan.cells if c.metric == METRIC)
    sigma_dept = next(c.sigma for c in dept_plan.cells if c.metric == METRIC)
    noise_mae = math.sqrt(2 / math.pi) * math.sqrt(sigma_org**2 + len(departments) * sigma_dept**2)
    return {
        "mae": float(np.abs(errors).mean()),
        "noise_mae": noise_mae,
        "true_value": true_value,
        "runs": len(errors),
    }


@pytest.mark.attack("A2")
def test_a2_trackers_in_the_catalogue_leave_the_isolated_value_under_noise(
    pristine: Installation, large, measure
) -> None:
    policy = parse_policy(tracker_policy_text(), "tracker").policy
    found = trackers(pristine, policy)
    measure(a2_tracker_pairs=len(found), a2_isolated_sizes=[len(people) for _, people in found])
    assert found, "the crafted catalogue should contain a tracker (the mid-month joiners)"
    for window_key, isolated in found:
        result = _tracker_error(pristine, policy, window_key, isolated, 20_000 if large else 2_000)
        measure(**{f"a2_{window_key}_{k}": v for k, v in result.items()})
        assert result["mae"] >= 0.9 * result["noise_mae"], (window_key, result)


@pytest.mark.attack("A2")
def test_a2_the_template_catalogue_expresses_no_same_window_tracker(pristine: Installation, policy) -> None:
    cadences = {}
    for report in policy.reports:
        cadences.setdefault(report.cadence, set()).add(report.level)
    # Two levels sharing a cadence are what a same-window tracker needs; the template has none.
    assert all(len(levels) == 1 for levels in cadences.values())


@pytest.mark.attack("A2", teeth=True)
def test_a2_teeth_without_noise_the_tracker_returns_the_joiners_value(
    fresh: Installation, tmp_path, measure
) -> None:
    approve_policy(fresh.ws, tracker_policy_text(), tmp_path / "tracker.toml")
    policy = fresh.ws.governance.require_active_policy("attack").policy
    found = trackers(fresh, policy)
    window_key, isolated = found[0]
    window = Window(Cadence.MONTH, window_key)
    frame = directory(fresh.org.synth.directory_csv)
    with exact_mode():
        org = services.release(fresh.ws, "organisation-monthly", [window_key], actor="analyst")
        dept = services.release(
            fresh.ws, "department-monthly", [window_key], metrics=[METRIC], actor="analyst"
        )
    org_total = (
        next(c.value for c in org.cells if c.metric == METRIC)
        * len(employed_during(frame, window))
        * window.n_weeks
    )
    departments = members_at(frame, window.start, "Department")
    rest = sum(c.value * len(departments[c.group]) * window.n_weeks for c in dept.cells if c.metric == METRIC)
    org_plan = plan_for(policy, "organisation-monthly", [window_key])
    truth = store_truth(fresh.ws, org_plan, "Organisation")[(window_key, METRIC)] - sum(
        store_truth(fresh.ws, plan_for(policy, "department-monthly", [window_key], [METRIC]), d)[
            (window_key, METRIC)
        ]
        for d in departments
    )
    measure(a2_teeth_isolated=len(isolated), a2_teeth_recovered=org_total - rest, a2_teeth_truth=truth)
    assert org_total - rest == pytest.approx(truth, abs=1e-6)
