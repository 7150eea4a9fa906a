"""The governance commands end to end: consult, comment, respond, approve, list, rights, retire."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from .flow_support import Org, build_org, policy_text
from .flow_support import run_cli as run

PID = "collaboration-2026h1"


@pytest.fixture
def org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Org:
    built = build_org(tmp_path, people=60, weeks=3, approve=False)
    monkeypatch.setenv("TEAMLENS_DATA_DIR", str(built.ws.settings.data_dir))
    monkeypatch.setenv("TEAMLENS_KEY_FILE", str(built.ws.settings.key_file))
    monkeypatch.setenv("COLUMNS", "200")
    built.policy_file.write_text(policy_text(), encoding="utf-8")
    return built


def test_the_lifecycle_and_rights_commands(
    org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "policy", "propose", str(org.policy_file))[0] == 0
    code, out = run(capsys, "policy", "consult", PID, "1", "--out", str(tmp_path / "consultation.html"))
    assert code == 0
    assert "consultation" in out
    assert (tmp_path / "consultation.html").exists()
    code, out = run(
        capsys, "policy", "comment", PID, "1", "--text", "No weekly figures, please.", "--objection"
    )
    assert code == 0
    assert "objection" in out
    code, out = run(capsys, "policy", "approve", PID, "1", "--party", "representative", "--name", "Rep")
    assert code == 3
    assert "have no response from the employer" in out
    code, out = run(
        capsys, "policy", "respond", PID, "1", "--party", "representative", "--name", "Rep", "--text", "x"
    )
    assert code == 7
    assert "Only the employer responds" in out
    assert run(capsys, "policy", "respond", PID, "1", "--name", "HR", "--text", "There are none.")[0] == 0
    code, out = run(capsys, "policy", "views", PID, "1")
    assert "No weekly figures, please." in out
    assert "0 unanswered" in out
    code, out = run(
        capsys,
        "docs",
        "signoff",
        PID,
        "1",
        "--measures-by",
        "HR director",
        "--residual-risk",
        "medium",
        "--dpo-advice",
        "Drop the meeting-hours metric.",
        "--overruled-because",
        "Meeting load is the stated purpose; kept at department level.",
        "--consultation-reviewed-by",
        "DPO",
    )
    assert code == 0
    assert "overruled, with reasons recorded" in out
    for party in ("representative", "employer"):
        code, out = run(capsys, "policy", "approve", PID, "1", "--party", party, "--name", party)
    assert "is now active" in out
    code, out = run(capsys, "notifications", "list", "--audience", "workers")
    assert code == 0
    flat = " ".join(out.split())  # rich wraps long lines at spaces
    assert "(policy.activated)" in flat
    assert "(notice.version)" in flat and "[notice sha256 " in flat
    code, out = run(capsys, "policy", "list")
    assert f"{PID} v1: active (missing approvals: none" in out
    assert run(capsys, "ingest", str(org.exports))[0] == 0
    with open(org.synth.directory_csv, encoding="utf-8") as handle:
        email = next(csv.DictReader(handle))["Email"]
    on_request = ("--name", "Dana Okafor", "--request", "SAR-2026-007")
    code, out = run(
        capsys, "rights", "access", email, "--out", str(tmp_path / "me"), "--role", "worker", *on_request
    )
    assert code == 7  # nobody becomes the worker by saying so: workers use the web app's /me
    assert "/me" in out and not (tmp_path / "me").exists()
    code, out = run(capsys, "rights", "access", email, "--out", str(tmp_path / "me"), *on_request)
    assert code == 0
    assert "/me" in " ".join(out.split())
    assert (tmp_path / "me" / "summary.txt").exists()
    code, out = run(capsys, "rights", "object", email, *on_request)
    assert code == 0
    assert "left out of every window starting" in out
    code, out = run(capsys, "rights", "exclusions", "--role", "analyst")
    assert code == 7
    assert "may not see the exclusion list" in out
    code, out = run(capsys, "rights", "exclusions", "--role", "dpo")
    assert code == 0
    assert "1 entries" in out
    code, out = run(capsys, "rights", "erase", email, *on_request)
    assert code == 0
    assert "Erased" in out
    code, out = run(capsys, "policy", "retire", PID, "1", "--party", "representative")
    assert code == 0
    assert "retired" in out
    code, out = run(capsys, "ingest", str(org.exports))
    assert code == 3
    assert "no approved policy" in out
