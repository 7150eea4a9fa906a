"""A32 — the ledger can be reset: delete a release's rows, or edit a kept noisy value, and release again.

An insider with write access to the governance database (``sqlite3`` on the file) deletes a
release's rows from ``ledger``, ``releases``, ``measured_blocks``, ``measurements`` and
``report_cells`` (every subset of interest), lowers a charge or edits one kept noisy value, then
releases again: the same report and window, and another window that needs the same kept block.
The audit log is hash-chained, so the release records in it are the record: before every release
the engine recomputes the charges and measured blocks from them and compares (``check_books``).

Pass, for every tampering: never fresh noise (the released numbers are the ones first published,
and no block is measured a second time) and never fresh budget (the ledger never shows less than
the audit log records as charged while a release goes through); the release is refused with
``BooksMismatch`` and the refusal is recorded in the audit log (``ledger.mismatch``); and
``teamlens audit verify`` fails, naming the period. The check covers every policy's releases
(ids, charges, published cell counts), since a later policy over the same weeks counts what
earlier ones charged there: deleting an earlier policy's ``releases`` rows is refused too.

A rebuilt audit chain (entries deleted and every hash recomputed) defeats any check that trusts
the chain; the representative's signed checkpoint catches it (A17), as the last test shows.

Teeth: with the books check disabled, deleting the rows gets fresh noise and fresh budget, as
often as the attacker likes.
"""

from __future__ import annotations

import json
import sqlite3
from fractions import Fraction
from pathlib import Path

import pytest

from teamlens import services
from teamlens.cli import main
from teamlens.domain import ReleasedTable
from teamlens.errors import BooksMismatch
from teamlens.governance import GovernanceDB, books, checkpoints, entry_hash

from ..integration.flow_support import approve_policy, policy_text, signer
from .conftest import Installation, clone

REPORT, WINDOW, LATER = "department-monthly", "2026-01", "2026-02"
TABLES = ("ledger", "releases", "measured_blocks", "measurements", "report_cells")


@pytest.fixture(scope="module")
def released(pristine: Installation, tmp_path_factory: pytest.TempPathFactory) -> tuple[Installation, str]:
    """A clone of the pristine installation with one release made: department-monthly 2026-01."""
    installation = clone(pristine, tmp_path_factory.mktemp("a25") / "released")
    table = services.release(installation.ws, REPORT, [WINDOW], actor="analyst")
    installation.ws.governance.close()
    return installation, _cells(table)


def _cells(table: ReleasedTable) -> str:
    return json.dumps(sorted((c.group, c.window, c.metric, c.value, c.lower, c.upper) for c in table.cells))


def _database(installation: Installation) -> Path:
    return installation.ws.settings.data_dir / "governance.sqlite"


def tamper(installation: Installation, how: tuple[str, ...]) -> None:
    """Delete the first release's rows from the tables in ``how``, or edit them ("edit:…")."""
    with sqlite3.connect(_database(installation)) as db:
        (release_id,) = db.execute("SELECT release_id FROM releases ORDER BY released_at LIMIT 1").fetchone()
        blocks = [
            key
            for (key,) in db.execute(
                "SELECT block_key FROM measured_blocks WHERE release_id = ?", (release_id,)
            )
        ]
        for step in how:
            if step == "edit:noisy":
                first = "(SELECT min(rowid) FROM measurements)"
                db.execute(f"UPDATE measurements SET noisy = noisy + 1 WHERE rowid = {first}")
            elif step == "edit:charge":
                db.execute("UPDATE ledger SET rho_numerator = '1', rho_denominator = '1000000'")
            elif step == "measurements":
                marks = ",".join("?" * len(blocks))
                db.execute(f"DELETE FROM measurements WHERE block_key IN ({marks})", blocks)
            else:
                assert step in TABLES
                db.execute(f"DELETE FROM {step} WHERE release_id = ?", (release_id,))


def _recorded_charges(governance: GovernanceDB, policy_id: str) -> Fraction:
    entries = governance.audit_entries(limit=100_000, newest_first=False)
    return sum(
        (
            Fraction(str(e.details["rho"]))
            for e in entries
            if e.action == "release.record" and e.details.get("policy_id") == policy_id
        ),
        Fraction(0),
    )


def _mismatches(governance: GovernanceDB) -> int:
    return sum(1 for entry in governance.audit_entries(limit=100_000) if entry.action == "ledger.mismatch")


def replay(installation: Installation, first: str) -> dict[str, bool]:
    """Release again after tampering: what the attacker got, and whether it was refused and recorded."""
    ws = installation.ws
    policy = ws.governance.require_active_policy("attack").policy
    original = _first_release_id(ws.governance)
    before = _mismatches(ws.governance)
    refused, fresh_noise, fresh_budget = False, False, False
    try:
        for window in (WINDOW, LATER):  # the same request, then one that needs the same kept block
            # Fresh budget: a release charged while the ledger shows less than the audit log records.
            short = ws.governance.spent(policy.policy_id, policy.period_start).value < _recorded_charges(
                ws.governance, policy.policy_id
            )
            table = services.release(ws, REPORT, [window], actor="attacker")
            fresh_noise |= window == WINDOW and _cells(table) != first
            fresh_budget |= short and table.rho_charged > 0
    except BooksMismatch:
        refused = True
    block = ws.governance.measured_blocks(policy.policy_id, policy.period_start).get(WINDOW)
    fresh_noise |= block is not None and block.release_id != original  # measured a second time
    return {
        "refused": refused,
        "recorded": _mismatches(ws.governance) > before,
        "fresh_noise": fresh_noise,
        "fresh_budget": fresh_budget,
    }


def _first_release_id(governance: GovernanceDB) -> str:
    entries = governance.audit_entries(limit=100_000, newest_first=False)
    return str(next(e.details["release_id"] for e in entries if e.action == "release.record"))


def _case(released: tuple[Installation, str], tmp_path: Path, how: tuple[str, ...]) -> dict[str, bool]:
    installation, first = released
    copy = clone(installation, tmp_path / "copy")
    tamper(copy, how)
    try:
        return replay(copy, first)
    finally:
        copy.ws.governance.close()


DETECTED = [
    ("ledger",),
    ("measured_blocks",),
    ("measurements",),
    ("ledger", "releases"),
    ("measured_blocks", "measurements"),
    ("measured_blocks", "measurements", "report_cells"),
    TABLES,
    ("edit:noisy",),
    ("edit:charge",),
]
UNDETECTED = [
    pytest.param(("releases",), id="releases"),
    pytest.param(("report_cells",), id="report_cells"),
]


@pytest.mark.attack("A32")
@pytest.mark.parametrize(
    "how", [*DETECTED, *UNDETECTED], ids=lambda how: "+".join(how) if isinstance(how, tuple) else None
)
def test_a32_a_tampered_ledger_is_refused_and_recorded(released, tmp_path: Path, how, measure) -> None:
    outcome = _case(released, tmp_path, how)
    measure(**{f"a32_{'+'.join(how)}": outcome})
    assert not outcome["fresh_noise"] and not outcome["fresh_budget"], outcome
    assert outcome["refused"] and outcome["recorded"], outcome


@pytest.mark.attack("A32")
@pytest.mark.parametrize("how", [("releases",), ("report_cells",)], ids=["releases", "report_cells"])
def test_a32_tampering_the_books_check_misses_still_buys_nothing(released, tmp_path: Path, how) -> None:
    outcome = _case(released, tmp_path, how)
    assert not outcome["fresh_noise"] and not outcome["fresh_budget"], outcome


@pytest.mark.attack("A32")
def test_a32_audit_verify_checks_the_books_of_every_period(released, tmp_path: Path, capsys) -> None:
    installation, _ = released
    copy = clone(installation, tmp_path / "copy")
    data = str(copy.ws.settings.data_dir)
    main(["audit", "verify", "--data-dir", data])
    assert (
        "Budget books agree with the audit log's release records for 1 policy period(s)."
        in capsys.readouterr().out
    )
    tamper(copy, ("ledger",))
    with pytest.raises(SystemExit) as done:
        main(["audit", "verify", "--data-dir", data])
    out = " ".join(capsys.readouterr().out.split())
    assert done.value.code != 0
    assert (
        "Budget books do not match the audit log for policy collaboration-2026h1, period from 2025-12-29"
        in out
    )
    assert "the ledger holds ρ = 0" in out
    checks = services.verify_books(copy.ws)
    assert [(check.policy_id, check.ok) for check in checks] == [("collaboration-2026h1", False)]
    assert _mismatches(copy.ws.governance) >= 2  # each finding is recorded, as a refused release's is
    copy.ws.governance.close()


@pytest.mark.attack("A32")
def test_a32_deleting_an_earlier_policys_releases_does_not_give_a_new_policy_fresh_budget(
    fresh: Installation, tmp_path: Path
) -> None:
    ws = fresh.ws
    first = services.release(ws, REPORT, [WINDOW], actor="analyst")
    old = ws.governance.require_active_policy("attack").policy
    services.suspend(ws, old.policy_id, by=signer(ws, "representative"), actor="rep")
    approve_policy(
        ws, policy_text(**{f'id = "{old.policy_id}"': f'id = "{old.policy_id}-bis"'}), tmp_path / "bis.toml"
    )
    with sqlite3.connect(_database(fresh)) as db:
        db.execute("DELETE FROM releases WHERE policy_id = ?", (old.policy_id,))
    new = ws.governance.require_active_policy("attack").policy
    try:
        again = services.release(ws, REPORT, [WINDOW], actor="attacker")
    except BooksMismatch:
        return
    counted = float(ws.governance.spent(new.policy_id, new.period_start, new.period_end).value)
    assert counted >= first.rho_charged + again.rho_charged - 1e-9


@pytest.mark.attack("A32")
def test_a32_a_rebuilt_audit_chain_is_caught_by_the_representatives_checkpoint(
    released, tmp_path: Path
) -> None:
    """The full reset — rows deleted, the release entry removed, every later hash recomputed —
    passes any check that trusts the chain; the checkpoint the representative holds catches it."""
    installation, _ = released
    copy = clone(installation, tmp_path / "copy")
    pem, public = checkpoints.generate_key()
    held = copy.ws.governance.checkpoint(pem, "rep.pem", actor="representative")
    tamper(copy, TABLES)
    _rebuild_without_releases(_database(copy))
    assert copy.ws.governance.verify_audit().ok
    assert all(check.ok for check in services.verify_books(copy.ws))  # consistent forgery: books agree
    assert not copy.ws.governance.verify_checkpoint(held, public).ok
    copy.ws.governance.close()


def _rebuild_without_releases(path: Path) -> None:
    """Drop every release.record entry and recompute the chain after it, and the head."""
    from teamlens.governance import GENESIS_HASH

    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT seq, at, actor, action, details FROM audit_log ORDER BY seq").fetchall()
        db.execute("DELETE FROM audit_log")
        prev, number = GENESIS_HASH, 0
        for _, at, actor, action, details in rows:
            if action == "release.record":
                continue
            number += 1
            digest = entry_hash(number, at, actor, action, json.loads(details), prev)
            db.execute(
                "INSERT INTO audit_log (seq, at, actor, action, details, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (number, at, actor, action, details, prev, digest),
            )
            prev = digest
        db.execute("UPDATE audit_head SET seq = ?, hash = ?", (number, prev))


@pytest.mark.attack("A32", teeth=True)
def test_a32_teeth_without_the_books_check_deleting_rows_buys_fresh_noise_and_budget(
    released, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, measure
) -> None:
    monkeypatch.setattr(books, "check_books", lambda conn, policy_id, period_start, using=(): "")
    installation, first = released
    copy = clone(installation, tmp_path / "copy")
    answers = {first}
    for _ in range(3):
        tamper(copy, TABLES)
        answers.add(_cells(services.release(copy.ws, REPORT, [WINDOW], actor="attacker")))
    policy = copy.ws.governance.require_active_policy("attack").policy
    spent = copy.ws.governance.spent(policy.policy_id, policy.period_start).value
    charged = _recorded_charges(copy.ws.governance, policy.policy_id)
    measure(
        a32_teeth_distinct_answers=len(answers),
        a32_teeth_true_loss=float(charged),
        a32_teeth_ledger=float(spent),
    )
    copy.ws.governance.close()
    assert len(answers) == 4  # fresh noise every time
    assert charged == 4 * spent  # the ledger shows one charge; the audit log records four
