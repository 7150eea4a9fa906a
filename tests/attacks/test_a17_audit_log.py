"""A17 — audit-log tampering: edit, delete, truncate or rebuild entries to hide what was done.

A governance database with 10,000 audit events (see ``log_file`` for how they are written). The
attacks are made the way an insider would, with ``sqlite3`` on the database file; detection goes
through ``GovernanceDB.verify_audit`` (and ``teamlens audit verify``).

(a) one byte of entry 5,000 changed: reported at 5,000. (b) entry 7,000 deleted: detected.
(c) the tail cut off and the head row moved back: only a checkpoint the representative holds
shows it. (d) the whole chain recomputed after an edit: same. Teeth: (c) and (d) pass the plain
chain check — the attacks do succeed against a hash chain without checkpoints.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from teamlens.cli import main
from teamlens.governance import GENESIS_HASH, GovernanceDB, canonical_json, checkpoints, entry_hash

EVENTS = 10_000


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A governance database holding 10,000 audit events (copy it before tampering).

    The first entries are appended by ``GovernanceDB.append_audit``; the rest are written in one
    transaction exactly as ``append`` writes them (canonical JSON details, ``entry_hash`` chained
    to the previous entry, the head row moved on), since 10,000 separate durable transactions take
    a minute. ``verify_audit`` accepting the result proves the bulk entries are well-formed.
    """
    path = tmp_path_factory.mktemp("audit") / "governance.sqlite"
    with GovernanceDB(f"sqlite:///{path}") as governance:
        for index in range(3):
            governance.append_audit("analyst", "report.viewed", {"n": index})
        seq, prev = governance.audit_head()
    at = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    with sqlite3.connect(path) as db:
        rows = []
        for number in range(seq + 1, EVENTS + 1):
            stamp = (at + dt.timedelta(seconds=number)).isoformat(timespec="microseconds")
            details = {"n": number}
            digest = entry_hash(number, stamp, "analyst", "report.viewed", details, prev)
            rows.append((number, stamp, "analyst", "report.viewed", canonical_json(details), prev, digest))
            prev = digest
        db.executemany(
            "INSERT INTO audit_log (seq, at, actor, action, details, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.execute("UPDATE audit_head SET seq = ?, hash = ?", (EVENTS, prev))
    with GovernanceDB(f"sqlite:///{path}") as governance:
        assert governance.verify_audit().ok
        assert governance.audit_head()[0] == EVENTS
    return path


def _copy(log_file: Path, tmp_path: Path) -> tuple[Path, GovernanceDB]:
    target = tmp_path / "governance.sqlite"
    target.write_bytes(log_file.read_bytes())
    # Tampering and verifying a copy on disk is quick; only the 10,000 appends needed /dev/shm.
    return target, GovernanceDB(f"sqlite:///{target}")


def _checkpoint(governance: GovernanceDB):
    """A signed checkpoint handed to the representative, and the public key they keep."""
    pem, public = checkpoints.generate_key()
    return governance.checkpoint(pem, "rep-key.pem", actor="representative"), public


@pytest.mark.attack("A17")
def test_a17_an_edited_byte_is_reported_at_its_entry(log_file: Path, tmp_path: Path, capsys, measure) -> None:
    path, governance = _copy(log_file, tmp_path)
    assert governance.verify_audit().ok
    with sqlite3.connect(path) as db:
        (details,) = db.execute("SELECT details FROM audit_log WHERE seq = 5000").fetchone()
        edited = details.replace("5", "6", 1)  # {"n":5000} → {"n":6000}: one byte, still valid JSON
        assert len(edited) == len(details) and sum(a != b for a, b in zip(edited, details, strict=True)) == 1
        db.execute("UPDATE audit_log SET details = ? WHERE seq = 5000", (edited,))
    result = governance.verify_audit()
    measure(a17_edit_first_bad=result.first_bad_seq)
    assert not result.ok and result.first_bad_seq == 5000
    with pytest.raises(SystemExit) as done:
        main(["audit", "verify", "--data-dir", str(tmp_path)])
    assert done.value.code != 0 and "5000" in capsys.readouterr().out


@pytest.mark.attack("A17")
def test_a17_a_deleted_entry_is_detected(log_file: Path, tmp_path: Path, measure) -> None:
    path, governance = _copy(log_file, tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM audit_log WHERE seq = 7000")
    result = governance.verify_audit()
    measure(a17_delete_first_bad=result.first_bad_seq)
    assert not result.ok and result.first_bad_seq == 7000


def _truncate(path: Path, keep: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM audit_log WHERE seq > ?", (keep,))
        (last,) = db.execute("SELECT hash FROM audit_log WHERE seq = ?", (keep,)).fetchone()
        db.execute("UPDATE audit_head SET seq = ?, hash = ?", (keep, last))


def _rebuild_after_edit(path: Path, seq: int) -> None:
    """Change entry ``seq`` and recompute every hash after it, and the head: a consistent forgery."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT seq, at, actor, action, details FROM audit_log ORDER BY seq").fetchall()
        prev = GENESIS_HASH
        import json

        for number, at, actor, action, details in rows:
            if number == seq:
                details = canonical_json({"n": -1})
            digest = entry_hash(number, at, actor, action, json.loads(details), prev)
            db.execute(
                "UPDATE audit_log SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (details, prev, digest, number),
            )
            prev = digest
        db.execute("UPDATE audit_head SET hash = ?", (prev,))


@pytest.mark.attack("A17")
def test_a17_a_truncated_tail_is_detected_against_the_representatives_checkpoint(
    log_file: Path, tmp_path: Path, measure
) -> None:
    path, governance = _copy(log_file, tmp_path)
    checkpoint, public = _checkpoint(governance)
    _truncate(path, EVENTS - 500)
    result = governance.verify_checkpoint(checkpoint, public)
    measure(a17_truncation_detected=not result.ok)
    assert not result.ok


@pytest.mark.attack("A17")
def test_a17_a_rebuilt_chain_is_detected_against_the_representatives_checkpoint(
    log_file: Path, tmp_path: Path, measure
) -> None:
    path, governance = _copy(log_file, tmp_path)
    checkpoint, public = _checkpoint(governance)
    _rebuild_after_edit(path, 5_000)
    result = governance.verify_checkpoint(checkpoint, public)
    measure(a17_rebuild_detected=not result.ok)
    assert not result.ok


@pytest.mark.attack("A17", teeth=True)
def test_a17_teeth_truncation_and_rebuilding_pass_the_plain_chain_check(
    log_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "cut").mkdir()
    (tmp_path / "forged").mkdir()
    truncated, cut = _copy(log_file, tmp_path / "cut")
    _truncate(truncated, EVENTS - 500)
    assert cut.verify_audit().ok
    rebuilt, forged = _copy(log_file, tmp_path / "forged")
    _rebuild_after_edit(rebuilt, 5_000)
    # The forgeries need no key: without a checkpoint held elsewhere, the chain alone cannot tell.
    assert forged.verify_audit().ok
