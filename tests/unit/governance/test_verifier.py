"""The stand-alone verifier: checks an exported log's chain, key sets and signatures, trusting nothing.

It must run with nothing of the server (only the standard library and ``cryptography``), catch a
forged signature even when the chain was rebuilt around it, and catch a whole made-up key history
once the representative says which key is theirs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teamlens.governance import GovernanceDB
from teamlens.verify import canonical_json, ed25519_key, entry_hash, sign_ed25519, verify_entries
from teamlens.verify.__main__ import main

from .helpers import KEYS, activate


def rechain(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recompute every hash, as someone who rewrote the log would."""
    prev = "0" * 64
    for entry in entries:
        entry["prev_hash"] = prev
        entry["hash"] = entry_hash(
            entry["seq"], entry["at"], entry["actor"], entry["action"], entry["details"], prev
        )
        prev = entry["hash"]
    return entries


def exported(db: GovernanceDB) -> list[dict[str, Any]]:
    return json.loads(json.dumps(db.export_audit()))


def rep_fingerprint() -> str:
    return ed25519_key(KEYS["representative"], "representative", "").fingerprint


def test_an_honest_log_verifies_with_the_representatives_fingerprint(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    report = verify_entries(exported(db), [rep_fingerprint()])
    assert report.ok, report.problems
    assert (report.key_sets, report.decisions) == (1, 3)  # not-consulted, two approvals


def test_a_forged_signature_is_caught_even_with_the_chain_rebuilt(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    entries = exported(db)
    approval = next(
        e for e in entries if e["action"] == "policy.approve" and e["details"]["party"] == "representative"
    )
    statement = approval["details"]["signed"]["statement"]
    forged = sign_ed25519(KEYS["employer"], statement)  # the employer signs in the representative's name
    approval["details"]["signed"]["signature"] = {**forged, "key": rep_fingerprint()}
    report = verify_entries(rechain(entries), [rep_fingerprint()])
    assert not report.ok
    assert any("does not verify" in problem for problem in report.problems)
    # Teeth: the honest signature, with the same rebuilt chain, passes.
    assert verify_entries(rechain(exported(db)), [rep_fingerprint()]).ok


def test_a_made_up_key_history_fails_once_the_representative_pins_their_key(
    db: GovernanceDB, template: str
) -> None:
    activate(db, template)
    entries = exported(db)
    fake = {party: Ed25519PrivateKey.generate() for party in ("employer", "representative", "dpo")}
    register = next(e for e in entries if e["action"] == "keys.register")
    statement = register["details"]["signed"]["statement"]
    statement["keys"] = [ed25519_key(fake[p], p, p).to_json() for p in fake]
    register["details"]["signed"]["signatures"] = [sign_ed25519(fake[p], statement) for p in fake]
    for entry in entries:
        signed = entry["details"].get("signed")
        if entry["action"] != "keys.register" and isinstance(signed, dict):
            party = signed["statement"]["party"]
            signed["signature"] = sign_ed25519(fake[party], signed["statement"])
    rewritten = rechain(entries)
    assert verify_entries(rewritten).ok  # self-consistent: without a pinned key, nothing tells
    pinned = verify_entries(rewritten, [rep_fingerprint()])
    assert not pinned.ok and "is not in the log's key set" in pinned.problems[-1]


def test_the_command_reads_a_file_and_exits_non_zero_on_a_problem(
    db: GovernanceDB, template: str, tmp_path: Path, capsys: Any
) -> None:
    activate(db, template)
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(canonical_json(e) for e in exported(db)) + "\n", encoding="utf-8")
    assert main([str(log), "--trust", rep_fingerprint()]) == 0
    assert "verified:" in capsys.readouterr().out
    lines = log.read_text().splitlines()
    del lines[2]
    log.write_text("\n".join(lines) + "\n")
    assert main([str(log), "--trust", rep_fingerprint()]) == 1
    assert "NOT verified" in capsys.readouterr().out


def test_the_verifier_loads_nothing_of_the_server() -> None:
    code = (
        "import sys, teamlens.verify.__main__\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'teamlens', 'sqlalchemy', 'fastapi', 'duckdb', 'opendp', 'pyarrow', 'jwt'})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.strip().split(","))
    assert loaded <= {
        "teamlens",
        "teamlens.verify",
        "teamlens.verify.__main__",
        "teamlens.verify.exported_log",
        "teamlens.verify.rules",
        "teamlens.verify.signatures",
    }, loaded
