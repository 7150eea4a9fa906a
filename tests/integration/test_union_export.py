"""The union's copy (R25): exactly the released cells of the last 52 weeks, objectors in none, no charge.

An organisation where one worker objected before the period starts is released in exact mode.
The copy must equal the published cells read from the database file, carry no person-level
column or pseudonym, charge nothing, be refused to any key but the representative's, and be
recorded in the audit log. Objectors: the released person-weeks of the objector's department
equal the store's exact headcount without them — and differ from it with them (teeth).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sqlite3
from pathlib import Path

import pytest

from teamlens import services
from teamlens.errors import AccessDenied
from teamlens.governance import GovernanceDB
from teamlens.services.union_export import COLUMNS

from ..support.exact import exact_mode
from ..support.orgs import org_fixture
from ..support.paths import needs_chromium
from .flow_support import Org, build_org, signer

TODAY = dt.date(2026, 6, 1)
POLICY = "collaboration-2026h1"


def objector(org: Org) -> str:
    with open(org.synth.directory_csv, encoding="utf-8") as handle:
        return next(csv.DictReader(handle))["Email"]


def released_with_an_objector(root: Path) -> Org:
    """120 workers, ingested; the first in the directory objected (dated before the period); January out."""
    built = build_org(root, people=120, weeks=8)
    services.ingest(built.ws, [built.exports], actor="admin")  # the objector's data is in the store
    before = lambda: dt.datetime(2025, 12, 1, tzinfo=dt.UTC)  # noqa: E731
    with GovernanceDB(built.ws.settings.governance_url, clock=before) as governance:
        governance.record_objection(built.ws.pseudonymiser()(objector(built)), actor="dpo")
    with exact_mode():
        services.release(built.ws, "department-monthly", ["2026-01"], actor="analyst")
    return built


org = org_fixture(released_with_an_objector)


def published(org: Org) -> list[tuple[str, str, str, str]]:
    """(report, window, metric, group) of every published cell, read from the database file."""
    with sqlite3.connect(org.ws.settings.data_dir / "governance.sqlite") as con:
        rows = con.execute("SELECT report_id, window_key, metric, group_key FROM report_cells").fetchall()
    return sorted(rows)


def test_the_copy_is_exactly_the_released_cells_and_costs_nothing(org: Org, tmp_path: Path) -> None:
    spent = org.ws.governance.spent(POLICY, dt.date(2025, 12, 29))
    copy = services.union_export.export_signed(
        org.ws, by=signer(org.ws, "representative"), out=tmp_path, pdf=False, today=TODAY
    )
    (path,) = copy.files
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == COLUMNS
    assert sorted((r["report_id"], r["window"], r["metric"], r["group"]) for r in rows) == published(org)
    assert len(rows) > 0
    assert not re.search(r"[0-9a-f]{64}", path.read_text(encoding="utf-8"))  # no pseudonym
    assert org.ws.governance.spent(POLICY, dt.date(2025, 12, 29)) == spent
    entry = org.ws.governance.audit_entries(limit=1)[0]
    assert (entry.action, entry.details["party"]) == ("union.export", "representative")
    # 52 weeks: a year and more later, January is no longer in the copy.
    assert services.union_export.union_copy(org.ws, dt.date(2027, 3, 1)).cells == ()


def test_only_the_representative_key_gets_the_copy(org: Org, tmp_path: Path) -> None:
    before = org.ws.governance.audit_head()
    with pytest.raises(AccessDenied, match="representative"):
        services.union_export.export_signed(
            org.ws, by=signer(org.ws, "employer"), out=tmp_path / "out", pdf=False, today=TODAY
        )
    assert not (tmp_path / "out").exists()
    assert org.ws.governance.audit_head() == before


@needs_chromium
def test_the_pdf_is_written(org: Org, tmp_path: Path) -> None:
    copy = services.union_export.export_signed(org.ws, by=signer(org.ws, "representative"), out=tmp_path)
    pdf = next(path for path in copy.files if path.suffix == ".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_objectors_are_in_no_released_figure(org: Org) -> None:
    pseudonym = org.ws.pseudonymiser()(objector(org))
    (placement,) = org.ws.store.person_directory(pseudonym).to_pylist()[:1]
    department = placement["department"]
    (cell,) = [
        cell
        for cell in services.union_export.union_copy(org.ws, TODAY).cells
        if cell.group == department and cell.metric == "emails_sent"
    ]
    table = services.released_tables(org.ws)[1][0]
    (released,) = [c for c in table.cells if c.group == department and c.metric == "emails_sent"]
    assert released.value == cell.value
    weeks = [dt.date(2025, 12, 29) + dt.timedelta(weeks=n) for n in range(5)]
    sizes = org.ws.store.group_sizes
    without = sum(sizes("department", week, {pseudonym}).get(department, 0) for week in weeks)
    with_them = sum(sizes("department", week).get(department, 0) for week in weeks)
    assert released.person_weeks == pytest.approx(without)
    assert with_them != without  # the objector is in the store: leaving them out is what matters
