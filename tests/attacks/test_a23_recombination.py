"""A23 — cross-release and export recombination over the whole period.

Every scheduled release of the policy period (every report, every window) is made, then
everything is downloaded again through every channel (released tables, the web API, the HTML
report, the CLI). Pass: the ledger equals Σ release charges and stays ≤ the period's ρ; the
re-downloads charge nothing and return identical numbers; a second scheduled run charges
nothing. Over a year of two half-year policies the loss is at most 2ρ, and the A5 reconstruction
at that annual ρ stays within its bound (documented in the measure). Teeth: with each clipping
block given its vectors' whole-period ρ (blocks that do not compose) and the ledger not
charged, the period's releases add up to several times ρ and the check fails.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from teamlens import services
from teamlens.cli import main
from teamlens.domain import Rho
from teamlens.governance import GovernanceDB, ledger
from teamlens.privacy import Strategy

from ..integration.flow_support import analyst_client
from .conftest import Installation
from .test_a05_reconstruction import _baseline, reconstruct, synthorg


def scheduled_period(installation: Installation) -> dict[str, object]:
    ws = installation.ws
    policy = ws.governance.require_active_policy("attack").policy
    # A scheduler releases each window when it ends: one release per report and window.
    tables = [
        services.release(ws, report.report_id, [window.key], actor="scheduler")
        for report in policy.reports
        for window in policy.windows(report.cadence)
    ]
    charges = sum((info.rho.value for info in ws.governance.releases()), start=Rho.zero().value)
    spent = ws.governance.spent(policy.policy_id, policy.period_start).value
    return {"policy": policy, "tables": tables, "charges": charges, "spent": spent}


@pytest.mark.attack("A23")
def test_a23_a_whole_period_of_releases_and_downloads_stays_within_rho(
    fresh: Installation, tmp_path, measure, capsys
) -> None:
    result = scheduled_period(fresh)
    policy = result["policy"]
    assert result["spent"] == result["charges"] <= policy.rho.value  # type: ignore[attr-defined, operator]
    ws = fresh.ws
    first = services.tables_as_json(*services.released_tables(ws))
    again = services.release_standard_reports(ws, actor="scheduler", through=policy.period_end)
    assert all(table.rho_charged == 0 for table in again)
    api = analyst_client(ws).get("/api/releases").json()
    policy_now, tables = services.released_tables(ws)
    services.write_report(policy_now, tables, tmp_path / "report.html")
    assert services.tables_as_json(policy_now, tables) == first
    assert [r["cells"] for r in api["reports"]] == [r["cells"] for r in first["reports"]]
    data = str(ws.settings.data_dir)
    for table in result["tables"]:  # type: ignore[attr-defined]
        capsys.readouterr()
        windows = [arg for window in table.windows for arg in ("-w", window)]
        main(["release", table.report_id, *windows, "--json", "--data-dir", data])
        cli = json.loads(capsys.readouterr().out)
        assert cli["rho_charged"] == 0
        assert [c["value"] for c in cli["cells"]] == [c.value for c in table.cells]
    assert ws.governance.spent(policy.policy_id, policy.period_start).value == result["spent"]
    # A year is two such periods: at most 2ρ per person. The A5 reconstruction at that ρ:
    orgs = [synthorg(100, seed) for seed in range(5)]
    annual_rho = str(2 * policy.rho.value)
    recovered = float(np.mean([reconstruct(org, rho=annual_rho) for org in orgs]))
    baseline = float(np.mean([_baseline(org) for org in orgs]))
    measure(
        a23_releases=len(result["tables"]),
        a23_spent=float(result["spent"]),
        a23_rho=float(policy.rho.value),
        a23_annual_reconstruction=recovered,
        a23_annual_baseline=baseline,
    )
    assert recovered <= baseline + 0.05


@pytest.mark.attack("A23", teeth=True)
def test_a23_teeth_without_composition_or_charging_the_period_overspends(
    fresh: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Strategy, "block_rho", lambda self, plan, block: plan.rho)
    monkeypatch.setattr(
        GovernanceDB, "spent", lambda self, policy_id, period_start, period_end=None: Rho.zero()
    )
    monkeypatch.setattr(ledger, "spent", lambda conn, policy_id, period_start, period_end=None: Rho.zero())
    result = scheduled_period(fresh)
    assert result["charges"] > 2 * result["policy"].rho.value  # type: ignore[attr-defined, operator]
