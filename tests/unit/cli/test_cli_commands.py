"""The commands the whole-flow test does not reach, and what each prints: usage errors, the views
before any policy, the policy and audit views, store verification, suspension, one-party narrowing,
a second policy waiting, a high-risk DPIA, a lapse found by the scheduler, and serving the app."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import runpy
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from freezegun import freeze_time

from teamlens import services
from teamlens.errors import PolicyError

from ...integration.flow_support import Org, build_org, policy_text, sign_off, signer
from ...integration.flow_support import run_cli as run
from ...support.orgs import org_fixture

PID = "collaboration-2026h1"


def small(root: Path) -> Org:
    """40 synthetic workers over 2 weeks, the template policy approved, their exports ingested."""
    org = build_org(root, people=40, weeks=2)
    services.ingest(org.ws, [org.exports], actor="admin")
    return org


org = org_fixture(small)


def key(org: Org, party: str) -> str:
    """The party's private key file, registered in the organisation (as ``--key`` takes it)."""
    return str(signer(org.ws, party).path)


@pytest.fixture
def cli(org: Org, monkeypatch: pytest.MonkeyPatch) -> Org:
    """The organisation, with the CLI pointed at it."""
    monkeypatch.setenv("TEAMLENS_DATA_DIR", str(org.ws.settings.data_dir))
    monkeypatch.setenv("TEAMLENS_KEY_FILE", str(org.ws.settings.key_file))
    monkeypatch.setenv("COLUMNS", "200")
    return org


def test_help_and_usage_errors(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run(capsys, "--help")
    assert code == 0 and "ingest" in out and "release" in out
    code, out = run(capsys, "release")
    assert code == 2 and "Missing argument" in out
    code, out = run(capsys, "release", "department-monthly", "--no-such-option")
    assert code == 2 and "No such option" in out
    monkeypatch.setattr(sys, "argv", ["teamlens", "policy", "template"])
    runpy.run_module("teamlens.cli", run_name="__main__")  # `python -m teamlens.cli`
    assert "[policy]" in capsys.readouterr().out


def test_before_any_policy_every_view_says_nothing_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TEAMLENS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TEAMLENS_KEY_FILE", str(tmp_path / "key" / "pseudonym.key"))
    monkeypatch.setenv("COLUMNS", "200")
    assert run(capsys, "init")[0] == 0
    assert "No approved policy: teamlens is off" in run(capsys, "policy", "show")[1]
    assert "No policy has been proposed yet" in run(capsys, "policy", "list")[1]
    assert "No notifications." in run(capsys, "notifications", "list")[1]
    assert (
        "No policy has ever run, so no data is held: nothing to delete." in run(capsys, "retention", "run")[1]
    )


def test_policy_show_audit_show_and_store_verify(cli: Org, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "policy", "show")
    assert code == 0
    assert f"{PID} v1" in out and "minimum group 10" in out
    assert "report department-monthly:" in out and "by department, each month" in out
    code, out = run(capsys, "policy", "show", "--json")
    assert code == 0 and PID in json.dumps(json.loads(out))
    code, out = run(capsys, "audit", "show", "--limit", "200")
    assert code == 0 and "policy.activate" in out and "ingest.record" in out
    code, out = run(capsys, "store", "verify")
    assert (code, out.strip()) == (0, "Fact store intact.")
    manifest = json.loads((cli.ws.settings.facts_dir / "manifest.json").read_text(encoding="utf-8"))
    month_file = sorted(manifest["months"].values())[0]
    (cli.ws.settings.facts_dir / month_file).unlink()
    code, out = run(capsys, "store", "verify")
    assert code == 9
    assert "problem:" in out and Path(month_file).name in out


def test_either_party_suspends_alone_and_ingestion_stops(
    cli: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "policy", "suspend", PID, "--key", key(cli, "representative"))
    assert code == 0 and f"Policy {PID} version 1 is now suspended." in out
    code, out = run(capsys, "ingest", str(cli.exports))
    assert code == 3 and "no approved policy" in out


def _propose(cli: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str], **changes: str) -> str:
    path = tmp_path / "v2.toml"
    path.write_text(policy_text(**{"version = 1": "version = 2", **changes}), encoding="utf-8")
    code, out = run(capsys, "policy", "propose", str(path))
    assert code == 0 and f"Proposed policy {PID} version 2" in out
    return out


def test_a_smaller_minimum_group_is_proposed_with_a_warning(
    cli: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _propose(cli, tmp_path, capsys, **{"min_group_size = 10 ": "min_group_size = 7  "})
    assert "warning:" in out and "min_group_size" in out


def test_a_narrowing_version_is_active_on_one_party_s_approval(
    cli: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _propose(cli, tmp_path, capsys, **{"min_group_size = 10 ": "min_group_size = 12 "})
    reason = "A narrowing of version 1: larger groups only."
    assert (
        run(capsys, "policy", "not-consulted", PID, "2", "--because", reason, "--key", key(cli, "employer"))[
            0
        ]
        == 0
    )
    sign_off(cli.ws, PID, 2)
    code, out = run(capsys, "policy", "approve", PID, "2", "--key", key(cli, "employer"), "--name", "HR")
    assert code == 0
    assert f"Policy {PID} version 2 is now active." in out
    assert "One party sufficed: it only narrows version 1 (R3)." in out
    assert cli.ws.governance.require_active_policy("test").policy.min_group_size == 12


def test_a_second_policy_approved_by_both_waits_and_says_what_to_do(
    cli: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = "after-hours-2026"
    path = tmp_path / "other.toml"
    path.write_text(policy_text(**{f'id = "{PID}"': f'id = "{other}"'}), encoding="utf-8")
    services.propose(cli.ws, path, actor="analyst")
    services.not_consulted(cli.ws, other, 1, by=signer(cli.ws, "employer"), author="HR", reason="A trial.")
    sign_off(cli.ws, other, 1)
    assert run(capsys, "policy", "approve", other, "1", "--key", key(cli, "employer"), "--name", "HR")[0] == 0
    code, out = run(
        capsys, "policy", "approve", other, "1", "--key", key(cli, "representative"), "--name", "Rep"
    )
    assert code == 0
    flat = " ".join(out.split())
    assert f"Policy {other} version 1 is now approved." in flat
    assert "Next: retire the policy in force (`teamlens policy retire" in flat
    assert f"then start this one: `teamlens policy activate {other} 1 --key EMPLOYER-KEY`." in flat


def test_a_high_risk_dpia_is_written_out_and_blocks_approval(
    cli: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _propose(cli, tmp_path, capsys, **{"min_group_size = 10 ": "min_group_size = 12 "})
    services.not_consulted(cli.ws, PID, 2, by=signer(cli.ws, "employer"), author="HR", reason="A trial.")
    dpia = tmp_path / "signed" / "dpia.html"
    code, out = run(
        capsys,
        *("docs", "signoff", PID, "2", "--measures-by", "HR director", "--residual-risk", "high"),
        *("--dpo-advice", "Do not proceed.", "--consultation-reviewed-by", "DPO", "--out", str(dpia)),
    )
    assert code == 0
    assert "A high residual risk blocks activation: consult the ICO first" in " ".join(out.split())
    signed = hashlib.sha256(dpia.read_bytes()).hexdigest()  # the file written is the DPIA signed off
    assert f"(sha256 {signed}); residual risk high" in " ".join(out.split())
    code, out = run(capsys, "policy", "approve", PID, "2", "--key", key(cli, "employer"), "--name", "HR")
    assert code == PolicyError.exit_code and "high residual risk" in out
    assert cli.ws.governance.require_active_policy("test").version == 1


def test_the_scheduler_tick_reports_a_lapse(cli: Org, capsys: pytest.CaptureFixture[str]) -> None:
    review = cli.ws.governance.require_active_policy("test").policy.review_date
    with freeze_time(f"{review + dt.timedelta(days=1)} 08:00"):
        code, out = run(capsys, "scheduler", "tick")
    flat = " ".join(out.split())
    assert code == 0
    assert f"Policy '{PID}' version 1 passed its review date and lapsed; both parties were notified." in flat
    assert "Scheduler tick: no policy in force;" in flat


def test_serve_runs_the_app_of_the_data_folder_on_the_address_given(
    cli: Org, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **options: started.update(app=app, **options))
    code, out = run(capsys, "serve", "--host", "127.0.0.9", "--port", "8123")
    assert code == 0 and "Serving teamlens on http://127.0.0.9:8123/" in out
    assert (started["host"], started["port"]) == ("127.0.0.9", 8123)
    served = TestClient(started["app"]).get("/policy")
    assert served.status_code == 200 and PID in served.text
