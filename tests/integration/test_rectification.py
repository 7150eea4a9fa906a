"""Rectification (R21): a corrected group is a recorded, charged event with a new release id.

January and February are released by department; the DPO then corrects one worker's department
for two weeks of January. The blocks those weeks are measured in are measured again and charged
(read from the database file: a new ledger row under the new release id), every recomputed window's
cells carry the new release id and the others keep theirs, a repeat release returns the new cells
at no cost, and the books still agree with the audit log. Teeth: a correction in weeks nothing
released used charges nothing and changes no cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from fractions import Fraction
from pathlib import Path

from teamlens import services

from ..support.orgs import org_fixture
from .flow_support import Org, build_org, signer

POLICY = "collaboration-2026h1"
PERIOD = dt.date(2025, 12, 29)
FROM, TO = dt.date(2026, 1, 12), dt.date(2026, 1, 26)


def released(root: Path) -> Org:
    """120 workers, ingested, with January and February released by department."""
    built = build_org(root, people=120, weeks=8)
    services.ingest(built.ws, [built.exports], actor="admin")
    services.release(built.ws, "department-monthly", ["2026-01", "2026-02"], actor="analyst")
    return built


org = org_fixture(released)


def worker_and_other_department(org: Org) -> tuple[str, str]:
    with open(org.synth.directory_csv, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    other = next(row["Department"] for row in rows if row["Department"] != rows[0]["Department"])
    return rows[0]["Email"], other


def cells_by_window(org: Org) -> dict[str, set[str]]:
    """Each window's release ids, read from the database file."""
    with sqlite3.connect(org.ws.settings.data_dir / "governance.sqlite") as con:
        rows = con.execute("SELECT window_key, release_id FROM report_cells").fetchall()
    found: dict[str, set[str]] = {}
    for window, release_id in rows:
        found.setdefault(window, set()).add(release_id)
    return found


def ledger_rows(org: Org) -> dict[str, Fraction]:
    with sqlite3.connect(org.ws.settings.data_dir / "governance.sqlite") as con:
        rows = con.execute("SELECT release_id, rho_numerator, rho_denominator FROM ledger").fetchall()
    return {release: Fraction(int(num), int(den)) for release, num, den in rows}


def test_a_correction_is_charged_and_the_recomputed_windows_carry_the_new_release_id(org: Org) -> None:
    email, department = worker_and_other_department(org)
    before_cells, before_ledger = cells_by_window(org), ledger_rows(org)
    spent = org.ws.governance.spent(POLICY, PERIOD)
    done = services.rectification.rectify(
        org.ws, email, level="department", group=department, start=FROM, end=TO,
        by=signer(org.ws, "dpo"), actor="dpo",
    )  # fmt: skip
    assert done.release_id is not None and done.rho is not None and done.rho.value > 0
    assert done.rows_changed == 1 and "2026-01" in done.windows
    ledger = ledger_rows(org)
    assert set(ledger) - set(before_ledger) == {done.release_id}
    assert ledger[done.release_id] == done.rho.value
    assert org.ws.governance.spent(POLICY, PERIOD).value == spent.value + done.rho.value
    after = cells_by_window(org)
    for window in before_cells:
        expected = {done.release_id} if window in done.windows else before_cells[window]
        assert after[window] == expected, window
    again = services.release(org.ws, "department-monthly", ["2026-01"], actor="analyst")
    assert (again.published_by, again.rho_charged) == ((done.release_id,), 0.0)
    org.ws.governance.check_books(POLICY, PERIOD)  # the replaced cells are on record: no mismatch
    placements = org.ws.store.person_directory(services.rights.pseudonym_of(org.ws, email)).to_pylist()
    corrected = [(p["valid_from"], p["valid_to"]) for p in placements if p["department"] == department]
    assert corrected == [(FROM, TO)]
    entry = next(e for e in org.ws.governance.audit_entries(limit=5) if e.action == "release.record")
    assert entry.details["release_id"] == done.release_id and entry.details["replaced"]
    assert email not in str(entry.details) and "pseudonym" not in str(entry.details)


def test_a_correction_in_weeks_nothing_used_charges_nothing(org: Org) -> None:
    email, department = worker_and_other_department(org)
    before_cells, spent = cells_by_window(org), org.ws.governance.spent(POLICY, PERIOD)
    done = services.rectification.rectify(
        org.ws, email, level="department", group=department, start=dt.date(2026, 5, 4),
        by=signer(org.ws, "dpo"), actor="dpo",
    )  # fmt: skip
    assert (done.rows_changed, done.release_id) == (1, None)
    assert org.ws.governance.spent(POLICY, PERIOD) == spent
    assert cells_by_window(org) == before_cells
