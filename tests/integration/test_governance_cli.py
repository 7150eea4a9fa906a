"""The governance commands end to end: keys, consult, comment, respond, approve, rights, retire.

Every party's move takes ``--key``: the key, registered for one party, says who acts. The CLI
cannot approve, suspend or act on a worker's data for a party whose key it does not hold.
"""

from __future__ import annotations

import csv
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from teamlens import services
from teamlens.errors import PolicyError
from teamlens.governance import PolicyState
from teamlens.verify import PartyKey, spaced

from .flow_support import Org, approve_policy, build_org, cli_keys, policy_text, signer
from .flow_support import run_cli as run

PID = "collaboration-2026h1"
OTHER = "after-hours-2026"


@pytest.fixture
def org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Org:
    built = build_org(tmp_path, people=60, weeks=3, approve=False)
    monkeypatch.setenv("TEAMLENS_DATA_DIR", str(built.ws.settings.data_dir))
    monkeypatch.setenv("TEAMLENS_KEY_FILE", str(built.ws.settings.key_file))
    monkeypatch.setenv("COLUMNS", "200")
    built.policy_file.write_text(policy_text(), encoding="utf-8")
    return built


def test_a_key_is_made_owner_only_and_never_in_the_data_folder(
    org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "keys", "new", "--party", "representative", "--out", str(tmp_path / "rep.key"))
    assert code == 0
    assert stat.S_IMODE((tmp_path / "rep.key").stat().st_mode) == 0o600
    assert "Fingerprint (representative):" in out
    inside = org.ws.settings.data_dir / "rep.key"
    code, out = run(capsys, "keys", "new", "--party", "representative", "--out", str(inside))
    assert code == 2
    assert "inside the data folder" in out and not inside.exists()


def test_the_lifecycle_and_rights_commands(
    org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = cli_keys(capsys, tmp_path / "own-machines")
    employer, representative, dpo = (str(key[p]) for p in ("employer", "representative", "dpo"))
    assert run(capsys, "policy", "propose", str(org.policy_file))[0] == 0
    code, out = run(
        capsys, "policy", "consult", PID, "1", "--key", employer, "--out", str(tmp_path / "consultation.html")
    )
    assert code == 0
    assert (tmp_path / "consultation.html").exists()
    code, out = run(
        capsys, "policy", "comment", PID, "1", "--text", "No weekly figures, please.", "--objection"
    )
    assert code == 0
    code, out = run(capsys, "policy", "approve", PID, "1", "--key", representative, "--name", "Rep")
    assert code == 3
    assert "have no response from the employer" in out
    code, out = run(
        capsys, "policy", "respond", PID, "1", "--key", representative, "--name", "Rep", "--text", "x"
    )
    assert code == 7  # the representative's key cannot answer for the employer
    assert "may not sign 'consultation.response'" in out
    code, out = run(
        capsys, "policy", "respond", PID, "1", "--key", employer, "--name", "HR", "--text", "None."
    )
    assert code == 0
    signoff = ("--measures-by", "HR", "--residual-risk", "low", "--dpo-advice", "Proceed.")
    code, out = run(capsys, "docs", "signoff", PID, "1", *signoff, "--consultation-reviewed-by", "DPO")
    assert code == 0
    # A key nobody registered is no party's, whatever its file is called.
    assert (
        run(capsys, "keys", "new", "--party", "representative", "--out", str(tmp_path / "mine.key"))[0] == 0
    )
    code, out = run(
        capsys, "policy", "approve", PID, "1", "--key", str(tmp_path / "mine.key"), "--name", "Rep"
    )
    assert code == 7
    assert "not registered for any party" in out
    for party_key in (representative, employer):
        code, out = run(capsys, "policy", "approve", PID, "1", "--key", party_key, "--name", "signer")
    assert "is now active" in out
    assert run(capsys, "ingest", str(org.exports))[0] == 0
    with open(org.synth.directory_csv, encoding="utf-8") as handle:
        email = next(csv.DictReader(handle))["Email"]
    ask = ("--kind", "access", "--reference", "SAR-2026-007")
    code, out = run(capsys, "rights", "request", email, *ask, "--key", representative)
    assert code == 7  # only the DPO opens an off-line request
    code, out = run(capsys, "rights", "request", email, *ask, "--key", dpo)
    assert code == 0
    request_id = out.split("Opened request ")[1].split()[0]
    code, out = run(capsys, "rights", "fulfil", request_id, "--key", dpo, "--out", str(tmp_path / "me"))
    assert code == 7  # the representative has not countersigned: the DPO cannot act alone
    assert "countersignature" in out and not (tmp_path / "me").exists()
    code, out = run(capsys, "rights", "countersign", request_id, "--key", employer)
    assert code == 7  # the employer cannot stand in for the representative
    assert run(capsys, "rights", "countersign", request_id, "--key", representative)[0] == 0
    code, out = run(
        capsys, "rights", "fulfil", request_id, "--key", representative, "--out", str(tmp_path / "x")
    )
    assert code == 7 and not (tmp_path / "x").exists()  # only the DPO fulfils
    code, out = run(capsys, "rights", "fulfil", request_id, "--key", dpo, "--out", str(tmp_path / "me"))
    assert code == 0
    assert (tmp_path / "me" / "summary.txt").exists()
    code, out = run(capsys, "rights", "fulfil", request_id, "--key", dpo, "--out", str(tmp_path / "again"))
    assert code == 3  # a request is fulfilled once
    code, out = run(capsys, "rights", "exclusions", "--key", employer)
    assert code == 7
    code, out = run(capsys, "rights", "exclusions", "--key", dpo)
    assert code == 0 and "0 entries" in out
    code, out = run(capsys, "policy", "suspend", PID, "--key", str(tmp_path / "mine.key"))
    assert code == 7
    code, out = run(capsys, "policy", "retire", PID, "1", "--key", representative)
    assert code == 0
    assert "retired" in out
    code, out = run(capsys, "ingest", str(org.exports))
    assert code == 3
    assert "no approved policy" in out
    _the_exported_log_verifies_offline(org, tmp_path, capsys, key)


def _the_exported_log_verifies_offline(
    org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str], key: dict[str, Path]
) -> None:
    assert run(capsys, "audit", "verify")[0] == 0
    log = tmp_path / "audit.jsonl"
    assert run(capsys, "audit", "export", "--out", str(log))[0] == 0
    public = json.loads((key["representative"].with_name("representative.pub.json")).read_text())
    fingerprint = spaced(PartyKey.from_json(public).fingerprint)  # as the representative reads it aloud
    assert fingerprint.replace(" ", "") in "".join(run(capsys, "keys", "list")[1].split())

    def verify(*extra: str) -> subprocess.CompletedProcess[str]:
        # The verifier runs as its own process, importing nothing of the server's state.
        command = [sys.executable, "-m", "teamlens.verify", str(log), *extra]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    done = verify("--trust", fingerprint)
    assert done.returncode == 0, done.stdout
    assert "verified:" in done.stdout and public["public_key"]
    assert verify("--trust", "ab" * 32).returncode == 1  # a key the parties do not hold
    lines = log.read_text().splitlines()
    approval = next(i for i, line in enumerate(lines) if '"action": "policy.approve"' in line)
    entry = json.loads(lines[approval])
    entry["details"]["signed"]["statement"]["version"] = 2  # the signature no longer covers it
    lines[approval] = json.dumps(entry, sort_keys=True)
    log.write_text("\n".join(lines) + "\n")
    broken = verify("--trust", fingerprint)
    assert broken.returncode == 1
    assert "NOT verified" in broken.stdout


def test_policy_activate_starts_an_approved_version_only_once_the_policy_in_force_has_ended(
    org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    approve_policy(org.ws, policy_text(), org.policy_file)
    approve_policy(org.ws, policy_text(**{f'id = "{PID}"': f'id = "{OTHER}"'}), tmp_path / "other.toml")
    employer, representative = (str(signer(org.ws, party).path) for party in ("employer", "representative"))
    [waiting] = [v for v in services.versions(org.ws) if v.policy_id == OTHER]
    assert waiting.state is PolicyState.APPROVED  # both parties signed; the first policy is in force
    code, out = run(capsys, "policy", "activate", OTHER, "1", "--key", employer)
    assert code == PolicyError.exit_code
    assert f"Policy '{PID}' version 1 is active; only one policy can be active at a time" in out
    assert org.ws.governance.require_active_policy("test").policy_id == PID
    assert run(capsys, "policy", "retire", PID, "1", "--key", employer)[0] == 0
    code, out = run(capsys, "policy", "activate", OTHER, "1", "--key", representative)
    assert code == 0
    assert f"Policy {OTHER} version 1 is now active." in out
    assert org.ws.governance.require_active_policy("test").policy_id == OTHER
    actions = [(e.action, e.details.get("policy_id")) for e in org.ws.governance.audit_entries(limit=3)]
    assert ("policy.activate", OTHER) in actions
    entries = len(org.ws.governance.audit_entries(limit=10_000))
    code, out = run(capsys, "policy", "activate", OTHER, "1", "--key", employer)  # again: no change
    assert code == 0 and f"Policy {OTHER} version 1 is now active." in out
    assert len(org.ws.governance.audit_entries(limit=10_000)) == entries
    code, out = run(capsys, "notifications", "list", "--audience", "workers")
    flat = " ".join(out.split())  # workers are told which notice now applies (R16)
    assert f"(notice.version): Policy '{OTHER}' version 1 is now in force. A new version of the" in flat
    code, out = run(capsys, "policy", "activate", PID, "1", "--key", employer)
    assert code == PolicyError.exit_code
    assert f"Policy '{PID}' version 1 is retired; only a version both parties approved" in out
