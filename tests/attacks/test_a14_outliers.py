"""A14 — outliers and dominance: one worker with 50× the median dominates a team total.

An installation where one worker sent 50× the median number of e-mails every week of January.
Through the service in exact (noise-free) mode, their department's released total with and
without them (an objection removes them) differs by at most the clipping bound; and the auditor's
lower bound on ε for that pair of neighbours stays within the release's ε. Teeth: without
clipping (the aggregation run with unbounded contributions) the difference is the outlier's raw
excess, and the auditor sees far more loss than configured.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from teamlens import services
from teamlens.domain import Cadence, Rho, Window
from teamlens.privacy.testing import exact_mode

from .auditor import (
    empirical_epsilon,
    gaussian_shift,
    likelihood_statistic,
    replicate,
    statistic_mean,
    threshold_grid,
)
from .conftest import Installation, clone, install, object_from_the_start
from .harness import directory, edit_export, members_at, plan_for

WINDOW, METRIC = "2026-01", "emails_sent"


@pytest.fixture(scope="module")
def outlier(small_exports: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Installation, str, str]:
    root = tmp_path_factory.mktemp("outlier")
    exports = root / "exports"
    shutil.copytree(small_exports, exports)
    frame = directory(exports / "hr" / "directory.csv")
    departments = members_at(frame, Window(Cadence.MONTH, WINDOW).start, "Department")
    department = max(departments, key=lambda name: len(departments[name]))
    email = departments[department][0]
    import csv

    for report in sorted((exports / "m365").glob("EmailActivityUserDetail_*.csv")):
        with report.open(encoding="utf-8-sig", newline="") as handle:
            counts = [int(row["Send Count"]) for row in csv.DictReader(handle)]
        median = max(int(np.median(counts)), 1)
        edit_export(report, email, "Send Count", str(50 * median))
    return install(root / "installation", exports), email, department


def _truths(installation: Installation, plan, department: str, person: str, bounds: dict | None = None):
    def truth(exclude: list[str]) -> dict[tuple[str, str], int]:
        table = installation.ws.store.aggregate(
            level="department",
            windows=[Window(Cadence.MONTH, WINDOW)],
            bounds=bounds or plan.bounds,
            exclude=exclude,
        )
        found = {
            (r["window"], r["metric"]): int(r["total"]) for r in table.to_pylist() if r["group"] == department
        }
        return {(c.window.key, c.metric): found.get((c.window.key, c.metric), 0) for c in plan.cells}

    return truth([]), truth([person])


def _released_total(installation: Installation, department: str, members: int) -> float:
    with exact_mode():
        table = services.release(installation.ws, "department-monthly", [WINDOW], metrics=[METRIC], actor="t")
    cell = next(c for c in table.cells if c.group == department and c.metric == METRIC)
    assert cell.value is not None
    return cell.value * members * Window(Cadence.MONTH, WINDOW).n_weeks


@pytest.mark.attack("A14")
def test_a14_an_outlier_moves_the_released_true_total_by_at_most_the_bound(
    outlier, tmp_path, policy, measure
) -> None:
    installation, email, department = outlier
    without = clone(installation, tmp_path / "without")
    object_from_the_start(without, email)
    members = len(
        members_at(
            directory(installation.org.synth.directory_csv), Window(Cadence.MONTH, WINDOW).start, "Department"
        )[department]
    )
    with_total = _released_total(clone(installation, tmp_path / "with"), department, members)
    without_total = _released_total(without, department, members - 1)
    bound = policy.metric_bound(METRIC).bound_for(Window(Cadence.MONTH, WINDOW))
    measure(a14_released_difference=with_total - without_total, a14_bound=bound)
    assert 0 < with_total - without_total <= bound + 1e-6


def _audit(installation: Installation, policy, email: str, department: str, bounds=None):
    plan = plan_for(policy, "department-monthly", [WINDOW], [METRIC])
    person = installation.ws.pseudonymiser()(email)
    d, d_prime = _truths(installation, plan, department, person, bounds)
    shift = {key: d[key] - d_prime[key] for key in d}
    configured = gaussian_shift(
        plan, {k: (c.bound if k[1] == METRIC else 1) for c in plan.cells for k in [(c.window.key, c.metric)]}
    )
    mu = gaussian_shift(plan, shift)
    runs = 10_000
    centre = statistic_mean(plan, d_prime, shift)
    audit = empirical_epsilon(
        likelihood_statistic(plan, replicate(plan, d, runs), shift),
        likelihood_statistic(plan, replicate(plan, d_prime, runs), shift),
        threshold_grid([centre, centre + mu * mu], mu),
        rho=Rho(plan.cost.value),
    )
    return audit, shift, mu, configured


@pytest.mark.attack("A14")
def test_a14_empirical_epsilon_with_and_without_the_outlier(outlier, policy, measure) -> None:
    installation, email, department = outlier
    audit, shift, mu, configured = _audit(installation, policy, email, department)
    measure(a14_shift=str(shift), a14_mu=mu, a14_worst_case_mu=configured, a14_audit=audit.as_dict())
    assert mu <= configured + 1e-9
    assert not audit.exceeded, audit


@pytest.mark.attack("A14", teeth=True)
def test_a14_teeth_without_clipping_the_outlier_dominates(outlier, policy, measure) -> None:
    installation, email, department = outlier
    plan = plan_for(policy, "department-monthly", [WINDOW], [METRIC])
    unclipped = {key: 10**12 for key in plan.bounds}
    audit, shift, _, _ = _audit(installation, policy, email, department, bounds=unclipped)
    bound = policy.metric_bound(METRIC).bound_for(Window(Cadence.MONTH, WINDOW))
    measure(a14_teeth_shift=shift[(WINDOW, METRIC)], a14_teeth_audit=audit.as_dict())
    assert shift[(WINDOW, METRIC)] > bound
    assert audit.exceeded
