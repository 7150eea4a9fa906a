"""Rich tables and JSON for what the commands print."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from teamlens.domain import METRICS, ReleasedCell, ReleasedTable
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


def cell_text(cell: ReleasedCell | None, min_group_size: int) -> str:
    """One cell as the CLI shows it: suppressed exactly when the JSON and the API say ``suppressed``."""
    if cell is None:
        return "[dim]—[/dim]"  # not released for this group and window
    if cell.suppressed or cell.value is None:
        return f"[dim]<{min_group_size}[/dim]"
    if cell.lower is None or cell.upper is None:
        return f"{cell.value:.1f}"
    return f"{cell.value:.1f} ±{(cell.upper - cell.lower) / 2:.1f}"


def release_tables(table: ReleasedTable) -> list[Table]:
    """One Rich table per metric: groups down, windows across, mean ± half-interval in each cell."""
    tables = []
    for name in table.metrics:
        definition = METRICS[name]
        grid = Table(
            title=f"{definition.label} — {definition.display_unit} per person per week, by {table.level}",
            caption=f"95% intervals shown as ±; '<{table.min_group_size}' = fewer than "
            f"{table.min_group_size} people, not shown",
        )
        grid.add_column(table.level)
        for window in table.windows:
            grid.add_column(window, justify="right")
        cells = {(c.group, c.window): c for c in table.cells if c.metric == name}
        for group in sorted({c.group for c in table.cells}):
            row = [escape(group)]
            for window in table.windows:
                row.append(cell_text(cells.get((group, window)), table.min_group_size))
            grid.add_row(*row)
        tables.append(grid)
    return tables


def ingest_outcomes(console: Console, summary: IngestSummary) -> None:
    """What an ingest did, file by file, with why each file passed over was: names never cut short.

    On a terminal, a table whose file column wraps; otherwise (piped, in a log) one plain line per
    file with the path last and whole, for grep and cut.
    """
    if console.is_terminal:
        table = Table(title=f"Ingested {summary.rows:,} rows")
        for column in ("file", "source", "status", "rows"):
            table.add_column(column, overflow="fold", justify="right" if column == "rows" else "left")
        for outcome in summary.files:
            table.add_row(escape(outcome.path), outcome.source, outcome.status, f"{outcome.rows:,}")
        console.print(table)
    else:
        console.print(f"Ingested {summary.rows:,} rows", highlight=False)
        for outcome in summary.files:
            line = f"{outcome.status}\t{outcome.source}\t{outcome.rows}\t{outcome.path}"
            console.file.write(line + "\n")  # as is: Rich would turn the tabs into spaces
    for outcome in summary.passed_over:
        reasons = "; ".join(outcome.notes)
        console.print(f"[yellow]passed over:[/yellow] {escape(outcome.path)}: {reasons}", soft_wrap=True)
    noted = (outcome for outcome in summary.files if outcome.status != "passed over")
    for note in sorted({note for outcome in noted for note in outcome.notes}):
        console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False, soft_wrap=True)
