"""Rich tables and JSON for what the commands print."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from teamlens import services
from teamlens.domain import METRICS, ReleasedTable
from teamlens.services import IngestSummary


def to_json(value: Any) -> str:
    """Dataclasses, dates and paths as indented JSON."""

    def default(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return dataclasses.asdict(obj)
        if isinstance(obj, dt.date | dt.datetime):
            return obj.isoformat()
        return str(obj)

    return json.dumps(value, default=default, indent=2, ensure_ascii=False)


def release_tables(table: ReleasedTable) -> list[Table]:
    """One Rich table per metric: groups down, windows across, each cell as the report reads it."""
    cells_of = services.report_cells
    tables = []
    for name in table.metrics:
        definition = METRICS[name]
        grid = Table(
            title=f"{definition.label} — {definition.display_unit} per person per week, by {table.level}",
            caption="Each figure with its 95% interval; one shown at 0 has a one-sided interval (up to …). "
            f"'{cells_of.UNCERTAIN_TEXT}': the interval is too wide to act on, so no number is shown; "
            f"'{cells_of.fewer_than(table.min_group_size)}': the group is too small to show.",
        )
        grid.add_column(table.level)
        for window in table.windows:
            grid.add_column(window, justify="right")
        cells = {(c.group, c.window): c for c in table.cells if c.metric == name}
        decimals = cells_of.table_decimals(cells.values())
        for group in sorted({c.group for c in table.cells}):
            row = [escape(group)]
            for window in table.windows:
                text = cells_of.cell_text(cells.get((group, window)), table.min_group_size, decimals)
                row.append(escape(text.plain()) if text.worth_reading else f"[dim]{escape(text.value)}[/dim]")
            grid.add_row(*row)
        tables.append(grid)
    return tables


def report_summary(context: services.ReportContext) -> list[str]:
    """One line per section of a written report: what it holds and how much of it is worth reading."""
    lines = []
    for section in context.sections:
        lines.append(
            f"{section.title}: {section.groups} {section.levels}, {section.span}; "
            f"{section.readable:,} of {section.cells:,} figures worth reading, "
            f"{section.count('uncertain'):,} too uncertain at this budget, "
            f"{section.count('suppressed'):,} for groups of {context.fewer_than}."
        )
    return lines


def ingest_outcomes(console: Console, summary: IngestSummary) -> None:
    """What an ingest did, file by file, with why each file passed over was: names never cut short.

    On a terminal, a table whose file column wraps; otherwise (piped, in a log) one plain line per
    file with the path last and whole, for grep and cut.
    """
    hidden = f" (and inputs of fewer than k people each: {summary.withheld})" if summary.withheld else ""
    if console.is_terminal:
        table = Table(title=f"Ingested {summary.rows:,} rows{hidden}")
        for column in ("file", "source", "status", "rows"):
            table.add_column(column, overflow="fold", justify="right" if column == "rows" else "left")
        for outcome in summary.files:
            table.add_row(escape(outcome.path), outcome.source, outcome.status, _rows(outcome.rows))
        console.print(table)
    else:
        console.print(f"Ingested {summary.rows:,} rows{hidden}", highlight=False)
        for outcome in summary.files:
            line = f"{outcome.status}\t{outcome.source}\t{_rows(outcome.rows)}\t{outcome.path}"
            console.file.write(line + "\n")  # as is: Rich would turn the tabs into spaces
    for outcome in summary.passed_over:
        reasons = "; ".join(outcome.notes)
        console.print(f"[yellow]passed over:[/yellow] {escape(outcome.path)}: {reasons}", soft_wrap=True)
    noted = (outcome for outcome in summary.files if outcome.status != "passed over")
    for note in sorted({note for outcome in noted for note in outcome.notes}):
        console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False, soft_wrap=True)


def _rows(rows: int | None) -> str:
    """An input's row count, or that it held fewer than k people (its count would describe them: A25)."""
    return "fewer than k people" if rows is None else f"{rows:,}"
