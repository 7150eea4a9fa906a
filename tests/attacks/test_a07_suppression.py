"""A7 — complementary disclosure and suppression as a signal.

(a) With a department (parent) and its teams (children) released for the same month, a
suppressed team is "recovered" as parent − Σ released siblings. The engine's released totals
are consistent (the parent's total is exactly the sum of all its children's, suppressed ones
included), so the recovery reads the least-squares estimate of the suppressed teams from every
measurement of the family — and its error must keep the SD that estimate has. That SD is
computed here independently (the generalised least-squares variance of the measurement tree,
for the set of teams each run suppressed); the standardised errors must have an SD of at least
0.9 (2,000 runs: the standard error is 1.6%, so an honest run fails with probability ~10⁻⁹).
Teeth: noise off, the recovery is exact.

(b) The suppression marker is byte-identical for a group of 0, 1 and k−1 members, and no group
drops out of the payload. Teeth: groups taken from the data instead of the directory (a group
without members disappears). The same holds through ``services.release`` on a real installation
whose directory has a department with no one in it yet: it is published as suppressed, and a
service that measures the groups found in the data leaves it out — caught.
"""

from __future__ import annotations

import csv
import importlib
import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from teamlens import services
from teamlens.domain import HEADCOUNT, Cadence, GroupLevel, Window, metric
from teamlens.privacy import Block, ReleaseSpec, Strategy
from teamlens.privacy import noise as noise_module

from ..support.exact import exact_mode
from .conftest import Installation, install, template_policy
from .harness import directory, members_at
from .replicas import Unit, renamed, replicate, store_truth, sub_strategy

MONTHLY_TEAMS = {'id = "team-quarterly"': 'id = "team-monthly"', 'cadence = "quarter"': 'cadence = "month"'}
WINDOW, METRIC = "2026-01", "emails_sent"
TEAM, DEPARTMENT = GroupLevel.TEAM, GroupLevel.DEPARTMENT
# The module, not the function ``teamlens.services.release`` that the package re-exports.
release_module = importlib.import_module("teamlens.services.release")


def _family(pristine: Installation, strategy: Strategy):
    """The largest department and its teams: unit, true totals and the team sizes."""
    window = Window(Cadence.MONTH, WINDOW)
    frame = directory(pristine.org.synth.directory_csv)
    teams, departments = (
        members_at(frame, window.start, "Team"),
        members_at(frame, window.start, "Department"),
    )
    parent = max(departments, key=lambda name: len(departments[name]))
    children = sorted(team for team, people in teams.items() if set(people) <= set(departments[parent]))
    blocks = strategy.blocks_for([window])
    names = {("department", parent): parent} | {("team", team): team for team in children}
    truth = renamed(store_truth(pristine.ws, strategy, blocks), names)
    unit = Unit(
        {DEPARTMENT: (parent,), TEAM: tuple(children)}, {(TEAM, t): (DEPARTMENT, parent) for t in children}
    )
    return unit, blocks, truth, parent, children, {team: len(teams[team]) for team in children}


def _released(strategy: Strategy, unit: Unit, blocks, truth, runs: int):
    made = replicate(strategy, blocks, unit, truth, runs)
    policy = strategy.policy
    teams = made.release(ReleaseSpec.build(policy, "team-monthly", [WINDOW], [METRIC]))
    departments = made.release(ReleaseSpec.build(policy, "department-monthly", [WINDOW], [METRIC]))
    return teams, departments


def gls_sd(strategy: Strategy, children: int, hidden: Sequence[int], weeks: int) -> float:
    """The GLS SD of the sum of the ``hidden`` children's window totals (display units)."""
    parent, child = strategy.metric_plan(DEPARTMENT, METRIC), strategy.metric_plan(TEAM, METRIC)
    if parent.sigma == 0:
        return 0.0  # exact mode
    design = np.vstack([np.ones(children), np.eye(children)])
    weights = np.diag([parent.sigma**-2] + [child.sigma**-2] * children)
    covariance = np.linalg.inv(design.T @ weights @ design)
    pick = np.zeros(children)
    pick[list(hidden)] = 1.0
    return float(np.sqrt(weeks * pick @ covariance @ pick)) / (child.scale * metric(METRIC).display_divisor)


def complementary_recovery(pristine: Installation, strategy: Strategy, runs: int) -> dict[str, object]:
    unit, blocks, truth, parent, children, sizes = _family(pristine, strategy)
    target = min(children, key=lambda team: sizes[team])
    teams, departments = _released(strategy, unit, blocks, truth, runs)
    window = Window(Cadence.MONTH, WINDOW)
    exact = {
        team: sum(truth.get(("team", team, week, METRIC), 0) for week in window.weeks)
        / (strategy.metric_plan(TEAM, METRIC).scale * metric(METRIC).display_divisor)
        for team in children
    }
    parent_total = departments[(parent, WINDOW, METRIC)].total
    errors, scores = [], []
    for run in range(runs):
        if not np.isnan(teams[(target, WINDOW, METRIC)].total[run]):
            continue  # the target was released this time: nothing to recover
        hidden = [i for i, team in enumerate(children) if np.isnan(teams[(team, WINDOW, METRIC)].total[run])]
        shown = sum(
            teams[(team, WINDOW, METRIC)].total[run] for i, team in enumerate(children) if i not in hidden
        )
        error = parent_total[run] - shown - sum(exact[children[i]] for i in hidden)
        errors.append(error)
        sd = gls_sd(strategy, len(children), hidden, window.n_weeks)
        scores.append(error / sd if sd > 0 else 0.0)
    return {
        "recoveries": len(errors),
        "standardised_error_sd": float(np.std(scores)) if scores else float("nan"),
        "exact_recoveries": int(np.sum(np.abs(np.array(errors)) < 1e-6)),
        "target_size": sizes[target],
    }


@pytest.mark.attack("A7")
def test_a7_parent_minus_released_siblings_keeps_the_least_squares_noise(
    pristine: Installation, large, measure
) -> None:
    strategy = sub_strategy(template_policy(**MONTHLY_TEAMS), metrics=[METRIC])
    result = complementary_recovery(pristine, strategy, 20_000 if large else 2_000)
    measure(**{f"a7_{key}": value for key, value in result.items()})
    assert result["recoveries"] > 1_000
    assert result["standardised_error_sd"] >= 0.9


@pytest.mark.attack("A7", teeth=True)
def test_a7_teeth_without_noise_the_suppressed_team_is_recovered_exactly(
    pristine: Installation, measure
) -> None:
    with exact_mode():
        strategy = sub_strategy(template_policy(**MONTHLY_TEAMS), metrics=[METRIC])
        result = complementary_recovery(pristine, strategy, 20)
    measure(a7_teeth=result)
    assert result["recoveries"] == 20  # k-threshold only: the small team is always suppressed
    assert result["exact_recoveries"] == result["recoveries"]


SIZES = {"empty": 0, "one": 1, "k-1": 9, "k": 10, "k+1": 11, "large": 30}


def _from_the_data(
    strategy: Strategy, block: Block, aggregates: pa.Table, groups: Mapping[GroupLevel, Sequence[str]]
) -> pa.Table:
    """The weakened engine: only groups that have rows in the data are measured."""
    present = set(aggregates.column("group").to_pylist())
    listed = {level: [group for group in found if group in present] for level, found in groups.items()}
    return noise_module.measure_block(strategy, block, aggregates, listed)


def _marker_payloads(groups_from_data: bool, runs: int) -> list[dict[str, bytes | None]]:
    """For each run, each group's suppressed-cell payload (without its name), or None if released."""
    policy = template_policy(**MONTHLY_TEAMS)
    strategy = sub_strategy(policy, metrics=[METRIC], levels=[TEAM])
    spec = ReleaseSpec.build(policy, "team-monthly", [WINDOW], [METRIC])
    blocks = strategy.blocks_for(spec.windows)
    truth: dict = {}
    for group, size in SIZES.items():
        if size:  # the store has no rows for a group without members
            for week in blocks[0].weeks:
                truth[("team", group, week, METRIC)] = size * 50 * strategy.metric_plan(TEAM, METRIC).scale
            truth[("team", group, blocks[0].start, HEADCOUNT)] = size * blocks[0].n_weeks
    made = replicate(
        strategy,
        blocks,
        Unit({TEAM: tuple(SIZES)}),
        truth,
        runs,
        measure=_from_the_data if groups_from_data else None,
    )
    payload = services.tables_as_json(policy, [made.table(spec)])["reports"][0]["cells"]
    by_run: list[dict[str, dict]] = [{} for _ in range(runs)]
    for cell in payload:
        group, run = cell["group"].rsplit("@", 1)
        by_run[int(run)][group] = cell
    return [
        {
            group: b"<missing>"
            if group not in cells
            else None
            if not cells[group]["suppressed"]
            else json.dumps({k: v for k, v in cells[group].items() if k != "group"}).encode()
            for group in SIZES
        }
        for cells in by_run
    ]


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


# -- (b) through the release service ------------------------------------------------------------

GHOST = "Ghost Department"


@pytest.fixture(scope="module")
def with_ghost_team(small_exports: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small organisation's exports with a department that opens in June: empty in January."""
    exports = tmp_path_factory.mktemp("ghost") / "exports"
    shutil.copytree(small_exports, exports)
    path = exports / "hr" / "directory.csv"
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    ghost = dict(rows[0])
    ghost.update(
        {"Employee ID": "E999999", "Email": "ghost.member@example.org", "Display Name": "Ghost Member"}
    )
    ghost.update({"Team": "Ghost Team", "Department": GHOST, "Valid From": "2026-06-01", "Valid To": ""})
    with path.open("a", newline="", encoding="utf-8") as file:
        csv.DictWriter(file, fieldnames=list(rows[0])).writerow(ghost)
    return exports


def groups_missing_from_the_release(installation: Installation, window: str) -> set[str]:
    """The departments the directory names (at any date) that the service's payload leaves out."""
    policy = installation.ws.governance.require_active_policy("test").policy
    table = services.release(installation.ws, "department-monthly", [window], actor="manager")
    cells = services.tables_as_json(policy, [table])["reports"][0]["cells"]
    listed = set(directory(installation.org.exports / "hr" / "directory.csv")["Department"])
    assert GHOST in listed
    return listed - {cell["group"] for cell in cells if cell["window"] == window}


@pytest.mark.attack("A7")
def test_a7_through_the_service_a_department_without_members_is_published_as_suppressed(
    with_ghost_team: Path, tmp_path: Path
) -> None:
    installation = install(tmp_path, with_ghost_team)
    assert groups_missing_from_the_release(installation, "2026-01") == set()
    table = services.release(installation.ws, "department-monthly", ["2026-01"], actor="manager")
    ghost = [cell for cell in table.cells if cell.group == GHOST]
    assert ghost and all(cell.value is None and cell.total is None for cell in ghost)


@pytest.mark.attack("A7", teeth=True)
def test_a7_teeth_groups_from_the_data_in_the_service_drop_the_empty_department(
    with_ghost_team: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service measures only the groups that have rows in the block: the empty department vanishes."""
    monkeypatch.setattr(release_module, "measure_block", _from_the_data)
    installation = install(tmp_path, with_ghost_team)
    assert groups_missing_from_the_release(installation, "2026-01") == {GHOST}
