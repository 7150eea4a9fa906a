"""The union's copy (R25): the released aggregates of the last 52 weeks, CSV and PDF, for the representative.

It re-publishes what releases already published (``report_cells``, exactly as shown to
management, suppressed cells left empty) and nothing else: no base measurement, no fact, no
row about a person, and no charge to the ledger. Objectors are in none of it, because every
release leaves them out before anything is counted (``services.release``: ``exclude``). Each
request is recorded in the audit log: on the command line as the representative's signed
decision (their key file), on the web as the signed-in representative's request.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2

from teamlens.domain.spreadsheet import safe_row
from teamlens.errors import AccessDenied
from teamlens.governance.union_copy import PublishedCell
from teamlens.services.keys import Signer, signed_fresh
from teamlens.services.workspace import Workspace

#: How far back the copy reaches (TUC draft Bill Part 8: up to the last 52 weeks).
WEEKS = 52
#: The audit action of a signed request for the union's copy (the representative's key file).
ACTION = "union.export"
#: The audit action of the signed-in representative's download on the web (no key signature).
WEB_ACTION = "union.download"
COLUMNS = (
    "policy_id",
    "report_id",
    "window",
    "metric",
    "group",
    "value",
    "lower_95",
    "upper_95",
    "suppressed",
    "uncertain",
    "clamped",
    "release_id",
)
_PAGE = jinja2.Environment(autoescape=True).from_string(
    """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Union copy {{ since }} to {{ through }}</title>
<style>body{font:10pt sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 4px}
td.n{text-align:right}</style></head><body>
<h1>Released team statistics, {{ since }} to {{ through }}</h1>
<p>The representative's copy (R25): every figure released in these weeks, exactly as it was published,
with its 95% interval. Workers who objected are in none of them. An empty value was suppressed
(fewer people than the minimum group size). These are activity figures, not productivity, and must not
be used for decisions about anyone.</p>
<table><tr>{% for name in columns %}<th>{{ name }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for value in row %}
<td class="{{ 'n' if value is number else '' }}">{{ value }}</td>{% endfor %}</tr>
{% endfor %}</table><p>{{ rows|length }} cells.</p></body></html>"""
)


@dataclass(frozen=True)
class UnionCopy:
    """The copy's weeks, its cells, and the files written (on the command line)."""

    since: dt.date
    through: dt.date
    cells: tuple[PublishedCell, ...]
    files: tuple[Path, ...] = ()

    def rows(self) -> list[list[object]]:
        """One row per cell, in ``COLUMNS`` order (empty for a suppressed value)."""
        return [
            [
                cell.policy_id,
                cell.report_id,
                cell.window,
                cell.metric,
                cell.group,
                "" if cell.value is None else round(cell.value, 4),
                "" if cell.lower is None else round(cell.lower, 4),
                "" if cell.upper is None else round(cell.upper, 4),
                cell.value is None,
                cell.uncertain,
                cell.clamped,
                cell.release_id,
            ]
            for cell in self.cells
        ]

    def csv(self) -> bytes:
        """The copy as CSV (UTF-8, cells safe to open in a spreadsheet)."""
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(safe_row(row) for row in self.rows())
        return text.getvalue().encode("utf-8")

    def html(self) -> str:
        """The copy as a printable HTML page (what the PDF shows)."""
        return _PAGE.render(since=self.since, through=self.through, columns=COLUMNS, rows=self.rows())

    def pdf(self) -> bytes:
        """The copy as PDF, printed by headless Chromium."""
        from teamlens.services.documents import html_to_pdf

        with tempfile.TemporaryDirectory(prefix="teamlens-union-") as folder:
            page = Path(folder) / "union-copy.html"
            page.write_text(self.html(), encoding="utf-8")
            return html_to_pdf(page, Path(folder) / "union-copy.pdf").read_bytes()


def union_copy(ws: Workspace, today: dt.date | None = None) -> UnionCopy:
    """The released cells of the last 52 weeks up to ``today`` (nothing is recorded: see the exports)."""
    through = today or dt.datetime.now(dt.UTC).date()
    since = through - dt.timedelta(weeks=WEEKS)
    return UnionCopy(since, through, tuple(ws.governance.published_between(since, through)))


def export_signed(
    ws: Workspace, *, by: Signer, out: Path, pdf: bool = True, today: dt.date | None = None
) -> UnionCopy:
    """Write the union's copy to ``out`` (CSV, and PDF unless not wanted), signed by the representative."""
    copy = union_copy(ws, today)
    weeks = {"since": copy.since.isoformat(), "through": copy.through.isoformat()}
    decision = signed_fresh(ws, by, ACTION, **weeks)
    if decision.party != "representative":
        raise AccessDenied(
            f"The union's copy is for the workers' representative; this key is the {decision.party}'s.",
            "The representative runs the command with their own key (`--key`).",
        )
    ws.governance.accept_decision(decision, ACTION, **weeks)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"union-copy-{copy.since.isoformat()}-to-{copy.through.isoformat()}"
    files = [_write(out / f"{stem}.csv", copy.csv())]
    if pdf:
        files.append(_write(out / f"{stem}.pdf", copy.pdf()))
    return UnionCopy(copy.since, copy.through, copy.cells, tuple(files))


def export_for_representative(
    ws: Workspace, kind: str, today: dt.date | None = None
) -> tuple[UnionCopy, bytes]:
    """The copy as ``kind`` ("csv" or "pdf") for the signed-in representative (the web checks the role)."""
    copy = union_copy(ws, today)
    content = copy.pdf() if kind == "pdf" else copy.csv()
    weeks = {"since": copy.since.isoformat(), "through": copy.through.isoformat()}
    details = {"channel": "web", "format": kind, **weeks}
    ws.governance.append_audit("representative", WEB_ACTION, {**details, "cells": len(copy.cells)})
    return copy, content


def _write(path: Path, content: bytes) -> Path:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(content)
    temporary.replace(path)
    return path
