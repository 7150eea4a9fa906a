"""A7 — complementary disclosure and suppression as a signal.

(a) With a department (parent) and its teams (children) released for the same month, a
suppressed team is "recovered" as parent − Σ released siblings (each total read back from the
released mean and the org chart's headcount). Parent and children carry independent noise, so the
recovery's error must have an SD of at least the configured noise SD of one child total (0.95 ×,
for sampling error over 2,000 runs: its standard error is 1.6%, and the real SD is over twice
that). Teeth: noise off, the recovery is exact. (b) The suppression marker is byte-identical for
a group of 0, 1 and k−1 members, and no group drops out of the payload. Teeth: groups taken from
the data instead of the directory (a group without members disappears).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from teamlens import services
from teamlens.domain import HEADCOUNT, Cadence, Window
from teamlens.privacy import add_noise, assemble
from teamlens.privacy.testing import exact_mode

from .auditor import replicate
from .conftest import Installation, template_policy
from .harness import attacker_totals, directory, members_at, plan_for, released_cells, store_truth

MONTHLY_TEAMS = {'id = "team-quarterly"': 'id = "team-monthly"', 'cadence = "quarter"': 'cadence = "month"'}
WINDOW, METRIC = "2026-02", "emails_sent"


def complementary_recovery(pristine: Installation, runs: int) -> dict[str, float]:
    policy = template_policy(**MONTHLY_TEAMS)
    window = Window(Cadence.MONTH, WINDOW)
    frame = directory(pristine.org.synth.directory_csv)
    teams, departments = (
        members_at(frame, window.start, "Team"),
        members_at(frame, window.start, "Department"),
    )
    parent = max(departments, key=lambda name: len(departments[name]))
    children = sorted(team for team, people in teams.items() if set(people) <= set(departments[parent]))
    target = min(children, key=lambda team: len(teams[team]))
    team_plan = plan_for(policy, "team-monthly", [WINDOW], [METRIC])
    dept_plan = plan_for(policy, "department-monthly", [WINDOW], [METRIC])
    key = (WINDOW, METRIC)
    truth = {team: store_truth(pristine.ws, team_plan, team) for team in children}
    parent_truth = store_truth(pristine.ws, dept_plan, parent)
    assert sum(t[(WINDOW, HEADCOUNT)] for t in truth.values()) == parent_truth[(WINDOW, HEADCOUNT)]
    parent_total = attacker_totals(
        released_cells(policy, dept_plan, replicate(dept_plan, parent_truth, runs)),
        METRIC,
        len(departments[parent]),
        window,
    )
    released = {
        team: attacker_totals(
            released_cells(policy, team_plan, replicate(team_plan, truth[team], runs)),
            METRIC,
            len(teams[team]),
            window,
        )
        for team in children
    }
    errors = []
    for run in range(runs):
        if not np.isnan(released[target][run]):
            continue  # the target was released this time: nothing to recover
        hidden = [team for team in children if np.isnan(released[team][run])]
        recovered = parent_total[run] - sum(released[team][run] for team in children if team not in hidden)
        errors.append(recovered - sum(truth[team][key] for team in hidden))
    sigma = next(cell.sigma for cell in team_plan.cells if cell.metric == METRIC)
    errors_array = np.array(errors)
    return {
        "recoveries": len(errors),
        "error_sd": float(errors_array.std()) if len(errors) else float("nan"),
        "exact_recoveries": int(np.sum(np.abs(errors_array) < 0.5)),
        "child_noise_sd": sigma,
        "target_size": len(teams[target]),
    }


@pytest.mark.attack("A7")
def test_a7_parent_minus_released_siblings_does_not_recover_a_suppressed_team(
    pristine: Installation, large, measure
) -> None:
    result = complementary_recovery(pristine, 20_000 if large else 2_000)
    measure(**{f"a7_{key}": value for key, value in result.items()})
    assert result["recoveries"] > 100
    assert result["error_sd"] >= 0.95 * result["child_noise_sd"]


@pytest.mark.attack("A7", teeth=True)
def test_a7_teeth_without_noise_the_suppressed_team_is_recovered_exactly(
    pristine: Installation, measure
) -> None:
    configured = plan_for(template_policy(**MONTHLY_TEAMS), "team-monthly", [WINDOW], [METRIC])
    with exact_mode():
        result = complementary_recovery(pristine, 20)
    result["child_noise_sd"] = next(cell.sigma for cell in configured.cells if cell.metric == METRIC)
    measure(a7_teeth=result)
    assert result["recoveries"] == 20  # k-threshold only: the small team is always suppressed
    assert result["exact_recoveries"] == result["recoveries"]
    assert not result["error_sd"] >= 0.95 * result["child_noise_sd"]


SIZES = {"empty": 0, "one": 1, "k-1": 9, "k": 10, "k+1": 11, "large": 30}


def _marker_payloads(groups_from_data: bool, runs: int) -> list[dict[str, bytes | None]]:
    """For each run, each group's suppressed-cell payload (without its name), or None if released."""
    policy = template_policy(**MONTHLY_TEAMS)
    plan = plan_for(policy, "team-monthly", [WINDOW], [METRIC])
    import pyarrow as pa

    from teamlens.domain import AGGREGATE_SCHEMA

    rows = []
    for group, size in SIZES.items():
        if size:  # the store has no rows for a group without members
            rows += [(group, WINDOW, METRIC, size * 250), (group, WINDOW, HEADCOUNT, size)]
    aggregates = pa.Table.from_arrays([pa.array(c) for c in zip(*rows, strict=True)], schema=AGGREGATE_SCHEMA)
    groups = sorted({row[0] for row in rows}) if groups_from_data else sorted(SIZES)
    import datetime as dt

    results = []
    for _ in range(runs):
        table = assemble(
            policy,
            plan.spec,
            add_noise(plan, aggregates, groups),
            release_id="r",
            released_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
            rho_charged=plan.cost,
        )
        payload = services.tables_as_json(policy, [table])["reports"][0]["cells"]
        by_group = {cell["group"]: cell for cell in payload}
        results.append(
            {
                group: None
                if group in by_group and not by_group[group]["suppressed"]
                else json.dumps({k: v for k, v in by_group[group].items() if k != "group"}).encode()
                if group in by_group
                else b"<missing>"
                for group in SIZES
            }
        )
    return results


def markers_identical(results: list[dict[str, bytes | None]]) -> bool:
    seen = {payload for run in results for group, payload in run.items() if payload is not None}
    return len(seen) == 1 and b"<missing>" not in seen


@pytest.mark.attack("A7")
def test_a7_the_suppression_marker_is_the_same_for_0_1_and_k_minus_1_members(measure) -> None:
    results = _marker_payloads(groups_from_data=False, runs=100)
    suppressed = {g: sum(r[g] is not None for r in results) for g in SIZES}
    measure(a7_suppressed_counts=suppressed)
    assert min(suppressed["empty"], suppressed["one"], suppressed["k-1"]) > 0
    assert markers_identical(results)
    with exact_mode():
        assert markers_identical(_marker_payloads(groups_from_data=False, runs=1))


@pytest.mark.attack("A7", teeth=True)
def test_a7_teeth_groups_taken_from_the_data_give_the_empty_group_away() -> None:
    assert not markers_identical(_marker_payloads(groups_from_data=True, runs=20))
