"""The empirical privacy auditor on the demo policy's team report, and its teeth (σ halved).

Neighbours: the installation's largest team with one worker at every clipping bound, against the
same team without that worker (removal); and the worker at 0 against the worker at every bound
(change to an extreme). For each pair the release runs many times (as replicas, see
``auditor.py``) and the Clopper–Pearson lower bound on ε, over thresholds on the most powerful
statistic of the released cells and on the released weekly mean, must stay at or below the
release's configured ε(ρ, δ) at every δ of the grid. With the noise scale halved the same audit
must find more loss than configured.

The CI run uses 10,000 runs per dataset; ``--audit-large`` uses 200,000 and writes
``docs/privacy-audit.md``. A false failure needs a Clopper–Pearson bound (joint confidence
1 − 10⁻⁶) to be wrong *and* the real loss at observable event sizes (about 1 at δ = 10⁻²) to
reach the configured ε (1.6): far less likely than 10⁻⁶.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from teamlens.domain import Cadence, Window
from teamlens.privacy import noise as noise_module
from teamlens.privacy._opendp import add_discrete_gaussian

from .auditor import (
    DELTAS,
    Audit,
    empirical_epsilon,
    gaussian_shift,
    likelihood_statistic,
    replicate,
    statistic_mean,
    threshold_grid,
)
from .conftest import Installation
from .harness import (
    attacker_totals,
    directory,
    extreme_shift,
    members_at,
    plan_for,
    plus,
    released_cells,
    store_truth,
)
from .suite import plain

REPORT, WINDOW, METRIC = "team-quarterly", "2026-Q1", "emails_sent"
AUDIT_DOC = Path(__file__).resolve().parents[2] / "docs" / "privacy-audit.md"


def _neighbours(pristine: Installation, policy) -> tuple[object, dict, dict, dict, str]:
    window = Window(Cadence.QUARTER, WINDOW)
    teams = members_at(directory(pristine.org.synth.directory_csv), window.start, "Team")
    team = max(teams, key=lambda name: len(teams[name]))
    plan = plan_for(policy, REPORT, [WINDOW])
    worker = pristine.ws.pseudonymiser()(teams[team][0])
    others = store_truth(pristine.ws, plan, team, exclude=[worker])
    return plan, others, extreme_shift(plan, headcount=1), extreme_shift(plan, headcount=0), team


def _audits(pristine: Installation, policy, runs: int, only: str | None = None) -> dict[str, Audit]:
    plan, others, removal, change, _ = _neighbours(pristine, policy)
    audits: dict[str, Audit] = {}
    with_worker_at_zero = plus(others, {key: value for key, value in removal.items() if value == 1})
    pairs = {
        "removal": (plus(others, removal), others, removal, plan.cost),
        "change to an extreme": (plus(with_worker_at_zero, change), with_worker_at_zero, change, None),
    }
    for name, (d, d_prime, shift, rho) in pairs.items():
        if only is not None and name != only:
            continue
        mu = gaussian_shift(plan, shift)
        # ρ of the cells the worker moves: the headcount cell only counts when it moves.
        moved = [cell for cell in plan.cells if shift.get((cell.window.key, cell.metric))]
        cost = rho if rho is not None else type(plan.cost)(sum(cell.rho for cell in moved))
        runs_d, runs_d_prime = replicate(plan, d, runs), replicate(plan, d_prime, runs)
        centre = statistic_mean(plan, d_prime, shift)
        audits[name] = empirical_epsilon(
            likelihood_statistic(plan, runs_d, shift),
            likelihood_statistic(plan, runs_d_prime, shift),
            threshold_grid([centre, centre + mu * mu], mu),
            rho=cost,
        )
        if name == "removal" and only is None:
            audits["released mean, removal"] = _mean_audit(policy, plan, runs_d, runs_d_prime, d_prime)
    return audits


def _mean_audit(policy, plan, runs_d, runs_d_prime, d_prime) -> Audit:
    """Thresholds on the released weekly mean of one metric (what a reader of the report sees)."""
    window = Window(Cadence.QUARTER, WINDOW)
    count = d_prime[(WINDOW, "headcount")]
    means = [
        attacker_totals(released_cells(policy, plan, runs), METRIC, count, window) / (count * window.n_weeks)
        for runs in (runs_d, runs_d_prime)
    ]
    sigma = next(c.sigma for c in plan.cells if c.metric == METRIC) / (count * window.n_weeks)
    centre = d_prime[(WINDOW, METRIC)] / (count * window.n_weeks)
    cost = type(plan.cost)(sum(c.rho for c in plan.cells if c.metric in (METRIC, "headcount")))
    # A suppressed run (NaN) is outside every threshold event.
    on_d, on_d_prime = (np.nan_to_num(m, nan=-np.inf) for m in means)
    return empirical_epsilon(on_d, on_d_prime, threshold_grid([centre], 3 * sigma), rho=cost)


def _half_sigma(totals: Sequence[int], sigma: float) -> list[int]:
    return add_discrete_gaussian(totals, sigma / 2)


@pytest.mark.attack("A1")
def test_auditor_bound_stays_within_the_configured_epsilon(
    pristine: Installation, policy, large, request
) -> None:
    runs = 200_000 if large else 10_000
    audits = _audits(pristine, policy, runs)
    if large:  # the audit report shows the teeth at the same size (the teeth test keeps to 10,000)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(noise_module, "add_discrete_gaussian", _half_sigma)
            _write_audit_doc(audits, _audits(pristine, policy, runs, only="removal")["removal"], runs, policy)
    summary = {"pipeline": f"{REPORT} {WINDOW}, largest team, template policy", "runs_per_dataset": runs}
    summary["audits"] = {name: audit.as_dict() for name, audit in audits.items()}
    request.node.user_properties.append(("auditor", plain(summary)))
    for name, audit in audits.items():
        assert not audit.exceeded, (name, audit)


@pytest.mark.attack("A1", teeth=True)
def test_auditor_teeth_a_mechanism_with_half_the_noise_is_caught(
    pristine: Installation, policy, monkeypatch: pytest.MonkeyPatch, request
) -> None:
    monkeypatch.setattr(noise_module, "add_discrete_gaussian", _half_sigma)
    audit = _audits(pristine, policy, 10_000, only="removal")["removal"]
    request.node.user_properties.append(
        ("auditor", plain({"teeth_half_sigma": audit.as_dict(), "teeth_detected": audit.exceeded}))
    )
    assert audit.exceeded, audit


def _rows(audit: Audit) -> list[str]:
    return [
        f"| {bound.delta:g} | {bound.configured:.3f} | {bound.lower_bound:.3f} | {bound.event} |"
        for bound in audit.bounds
    ]


def _write_audit_doc(audits: dict[str, Audit], teeth: Audit, runs: int, policy) -> None:
    lines = [
        "# Empirical privacy audit",
        "",
        f"Written by `make audit` (`pytest tests/attacks -q --audit-large`) on "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. The auditor is `tests/attacks/auditor.py`.",
        "",
        f"Pipeline: report `{REPORT}`, window `{WINDOW}` of the template (demo) policy "
        f"(ρ = {float(policy.rho):g} for the period, δ = {policy.delta:g}), the largest team of a "
        f"120-person synthetic organisation; {runs:,} releases per dataset, run as replicas of the "
        "release engine (`plan_release` → `add_noise` → `assemble`) on the true totals from the "
        "installation's store. Each row is the best Clopper–Pearson lower bound on ε over 120 threshold "
        "events (joint confidence 1 − 10⁻⁶), against the configured ε(ρ, δ) of the cells the worker moves.",
        "",
        "A lower bound at or below the configured ε is what a correct mechanism gives; it is a test for "
        "bugs, not a proof of privacy. The Gaussian's ε at δ = 10⁻⁶ lives in tails no audit of this size "
        "can see, which is why the grid includes larger δ (a ρ-zCDP release is (ε(ρ, δ), δ)-DP for all δ).",
        "",
    ]
    for name, audit in audits.items():
        lines += [
            f"## {name} (ρ = {audit.rho:.4g})",
            "",
            "| δ | configured ε | lower bound on ε | event |",
            "|---|---|---|---|",
            *_rows(audit),
            "",
            f"Verdict: {'EXCEEDED — a privacy bug' if audit.exceeded else 'within the configured ε'}.",
            "",
        ]
    lines += [
        "## Teeth: the same audit of the removal pair with the noise scale halved",
        "",
        "| δ | configured ε | lower bound on ε | event |",
        "|---|---|---|---|",
        *_rows(teeth),
        "",
        f"Verdict: {'caught (lower bound above the configured ε)' if teeth.exceeded else 'NOT caught'}.",
        "",
    ]
    AUDIT_DOC.write_text("\n".join(lines), encoding="utf-8")


def test_the_delta_grid_includes_the_policy_delta(policy) -> None:
    assert policy.delta in DELTAS
