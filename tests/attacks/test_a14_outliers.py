"""A14 — outliers and dominance: one worker with 50× the median dominates a team total.

An installation where one worker sent 50× the median number of e-mails every week of January.
Through the service in exact (noise-free) mode, their department's released total with and
without them (an objection removes them) differs by at most what one clipped vector can add
over the block (per week × weeks: the L2 bound per_week·√n times √n); and the auditor's lower
bound on ε for that pair of neighbours (the department's weekly vector and headcount, many runs)
stays within the configured ε of those vectors. Teeth: without clipping (the store's aggregation
run with an unbounded norm) the difference is the outlier's raw excess, and the auditor sees far
more loss than configured.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from teamlens import services
from teamlens.domain import Cadence, GroupLevel, Window
from teamlens.store import MetricClip

from ..support.exact import exact_mode
from .auditor import empirical_epsilon, threshold_grid
from .conftest import Installation, clone, install, object_from_the_start
from .harness import directory, edit_export, members_at
from .replicas import (
    Unit,
    extreme_shift,
    gaussian_mu,
    likelihood_statistic,
    plus,
    renamed,
    replicate,
    shift_rho,
    statistic_mean,
    store_truth,
    sub_strategy,
)

WINDOW, METRIC = "2026-01", "emails_sent"
DEPARTMENT = Unit({GroupLevel.DEPARTMENT: ("D",)})


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


def _released_total(installation: Installation, department: str) -> float:
    with exact_mode():
        table = services.release(installation.ws, "department-monthly", [WINDOW], metrics=[METRIC], actor="t")
    cell = next(c for c in table.cells if c.group == department and c.metric == METRIC)
    assert cell.total is not None
    return cell.total


@pytest.mark.attack("A14")
def test_a14_an_outlier_moves_the_released_true_total_by_at_most_the_bound(
    outlier, tmp_path, policy, measure
) -> None:
    installation, email, department = outlier
    without = clone(installation, tmp_path / "without")
    object_from_the_start(without, email)
    with_total = _released_total(clone(installation, tmp_path / "with"), department)
    without_total = _released_total(without, department)
    window = Window(Cadence.MONTH, WINDOW)
    bound = policy.metric_bound(METRIC).per_week * window.n_weeks  # Σ of a vector of L2 norm c·√n
    measure(a14_released_difference=with_total - without_total, a14_bound=bound)
    assert 0 < with_total - without_total <= bound + 1e-6


def unclipped(strategy, block) -> dict[str, MetricClip]:
    """The weakened store: every metric's L2 bound so large that nothing is ever clipped."""
    return {plan.metric: MetricClip(1e15, plan.scale) for plan in strategy.metric_plans}


def _audit(installation: Installation, policy, email: str, department: str, runs: int, clips=None):
    strategy = sub_strategy(policy, metrics=[METRIC], levels=[GroupLevel.DEPARTMENT])
    blocks = strategy.blocks_for([Window(Cadence.MONTH, WINDOW)])
    person = installation.ws.pseudonymiser()(email)
    names = {("department", department): "D"}
    extra = {"clips": clips} if clips else {}
    d = renamed(store_truth(installation.ws, strategy, blocks, **extra), names)
    d_prime = renamed(store_truth(installation.ws, strategy, blocks, exclude=[person], **extra), names)
    shift = plus(d, d_prime, -1)
    worst = gaussian_mu(strategy, extreme_shift(strategy, blocks, {GroupLevel.DEPARTMENT: "D"}))
    mu = gaussian_mu(strategy, shift)
    centre = statistic_mean(strategy, d_prime, shift)
    audit = empirical_epsilon(
        likelihood_statistic(strategy, replicate(strategy, blocks, DEPARTMENT, d, runs), shift),
        likelihood_statistic(strategy, replicate(strategy, blocks, DEPARTMENT, d_prime, runs), shift),
        threshold_grid([centre, centre + mu * mu], mu),
        rho=shift_rho(strategy, shift),
    )
    return audit, shift, mu, worst


@pytest.mark.attack("A14")
def test_a14_empirical_epsilon_with_and_without_the_outlier(outlier, policy, large, measure) -> None:
    installation, email, department = outlier
    audit, _, mu, worst = _audit(installation, policy, email, department, 50_000 if large else 3_000)
    measure(a14_mu=mu, a14_worst_case_mu=worst, a14_audit=audit.as_dict())
    assert mu <= worst + 1e-9
    assert not audit.exceeded, audit


@pytest.mark.attack("A14", teeth=True)
def test_a14_teeth_without_clipping_the_outlier_dominates(outlier, policy, measure) -> None:
    installation, email, department = outlier
    audit, _, mu, worst = _audit(installation, policy, email, department, 2_000, clips=unclipped)
    measure(a14_teeth_mu=mu, a14_teeth_audit=audit.as_dict())
    assert mu > worst
    assert audit.exceeded
