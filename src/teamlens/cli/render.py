"""Rich tables and JSON for what the commands print."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from rich.markup import escape
from rich.table import Table

from teamlens import services
from teamlens.domain import METRICS, ReleasedTable


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


def report_sections(context: services.ReportContext) -> list[dict[str, object]]:
    """Per section of a written report, its counts as JSON-ready data."""
    return [
        {
            "report_id": section.report_id,
            "title": section.title,
            "level": section.level,
            "groups": section.groups,
            "windows": [column.key for column in section.columns],
            "figures": section.cells,
            "worth_reading": section.readable,
            "too_uncertain": section.count("uncertain"),
            "fewer_than_min_group_size": section.count("suppressed"),
        }
        for section in context.sections
    ]
