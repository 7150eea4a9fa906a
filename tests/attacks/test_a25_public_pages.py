"""A25 — one worker's activity read off the public pages and the ingest output.

Each person's own mailbox is ingested as a file of its own (``<address>.mbox``), in address
order. Before, each file became an audit entry whose row count (their number of sending days),
content hash and second of ingestion the public ``/audit`` page showed, and the admin's
``teamlens ingest`` listed each file's rows: with a staff list, every worker's activity could be
read. Property: nothing shown outside the governance database's auditors is derived from fewer
than k people's data, whatever was ingested. Here: the public audit page (structured and as
served), the register, and the ingest command's table and JSON hold no per-file row count, no
content hash and no time of day of an ingestion; the auditors' own view (``teamlens audit show``,
the ingestion records) still has them all. Teeth: with the public page showing ingest entries as
recorded, every worker's row count is on it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from teamlens import services
from teamlens.governance import GovernanceDB
from teamlens.services import Workspace
from teamlens.web import create_app

from ..integration.flow_support import mail_workspace, run_cli

#: Messages per person: distinct, and unlike any other number on the pages.
COUNTS = [101 + 13 * index for index in range(12)]
FIRST_DAY = dt.datetime(2026, 1, 5, 10, 0)


def _mailbox(address: str, messages: int) -> str:
    out = []
    for number in range(messages):
        when = FIRST_DAY + dt.timedelta(days=number)
        out.append(
            f"From {address} {when:%a %b %d %H:%M:%S %Y}\nFrom: {address}\nTo: team@example.org\n"
            f"Date: {when:%a, %d %b %Y %H:%M:%S +0000}\nMessage-ID: <{number}.{address}>\n\nbody\n\n"
        )
    return "".join(out)


def _tomorrow(ws: Workspace) -> Workspace:
    """The same installation read a day later, when today's entries are public."""
    later = Workspace(ws.settings)
    clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # noqa: E731
    later.__dict__["governance"] = GovernanceDB(ws.settings.governance_url, clock=clock)
    return later


def _installation(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Workspace, str]:
    ws = mail_workspace(root)
    mail = root / "mail"
    mail.mkdir()
    for index, count in enumerate(COUNTS):
        address = f"worker{index:02d}@example.org"
        (mail / f"{address}.mbox").write_text(_mailbox(address, count))
    options = ("--data-dir", str(ws.settings.data_dir), "--key-file", str(ws.settings.key_file))
    code, table = run_cli(capsys, "ingest", str(mail), *options)
    assert code == 0, table
    ws.governance.close()
    return ws, table


def shown_outside_the_auditors(ws: Workspace) -> tuple[list[tuple[str, str, dict[str, str]]], str]:
    """The public audit entries (action, when, details) and every public page's text."""
    later = _tomorrow(ws)
    page = services.audit_page(later)
    entries = [(entry.action, entry.when, dict(entry.details)) for entry in page.entries]
    client = TestClient(create_app(later))
    html = "".join(client.get(path).text for path in ("/audit", "/register", "/api/releases"))
    later.governance.close()
    return entries, html


def _ingest_numbers(ws: Workspace) -> tuple[set[int], set[str]]:
    records = ws.governance.ingestions()
    rows = {record.rows for record in records if record.rows is not None}
    hashes = {record.content_hash for record in records} | {r.content_hash[:12] for r in records}
    return rows, hashes


@pytest.mark.attack("A25")
def test_a25_no_public_page_or_ingest_output_describes_one_workers_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], measure
) -> None:
    ws, table = _installation(tmp_path, capsys)
    rows, hashes = _ingest_numbers(ws)
    assert len(rows) == len(COUNTS)  # the auditors' record has each file's count
    entries, html = shown_outside_the_auditors(ws)
    ingest_entries = [entry for entry in entries if entry[0] == "ingest.record"]
    assert len(ingest_entries) == len(COUNTS)
    leaked = [
        entry for entry in ingest_entries if set(entry[2]) - {"source"} or re.search(r"\d\d:\d\d", entry[1])
    ]
    # Key fingerprints and hashes are printed in groups of hex digits ("0114 a3f0 …"): not counts.
    text = re.sub(r"\b[0-9a-f]{4}(?:[ :][0-9a-f]{4}){3,}\b|\b[0-9a-f]{16,}\b", " ", html + table)
    numbers = {int(n.replace(",", "")) for n in re.findall(r"\b\d[\d,]*\b", text)}
    found_rows = sorted(rows & numbers)
    found_hashes = sorted(h for h in hashes if h in html or h in table)
    code, as_json = run_cli(
        capsys, "ingest", "--json", str(tmp_path / "mail"), "--data-dir", str(ws.settings.data_dir),
        "--key-file", str(ws.settings.key_file),
    )  # fmt: skip
    assert code == 0
    measure(
        a25_personal_files=len(COUNTS),
        a25_public_entries_with_details=len(leaked),
        a25_row_counts_shown=len(found_rows),
        a25_hashes_shown=len(found_hashes),
    )
    assert leaked == []
    assert found_rows == []
    assert found_hashes == []
    assert "fewer than k people" in table
    assert all(outcome["rows"] in (None, 0) for outcome in json.loads(as_json)["files"])


@pytest.mark.attack("A25", teeth=True)
def test_a25_teeth_ingest_entries_shown_as_recorded_give_every_workers_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from teamlens.services import audit

    monkeypatch.setattr(audit, "_FROM_DATA", {})
    monkeypatch.setattr(audit, "_FROM_DATA_PREFIXES", ())
    ws, _ = _installation(tmp_path, capsys)
    rows, _ = _ingest_numbers(ws)
    entries, _ = shown_outside_the_auditors(ws)
    shown = {int(details["rows"]) for action, _, details in entries if action == "ingest.record"}
    assert shown == rows
