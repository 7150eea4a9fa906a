"""Released reports as data frames and files, for analysts (``teamlens.open``, ``teamlens export``).

Everything here starts from :func:`released_tables`, the cells the reports published, exactly
what ``/api/releases`` serves: one row per released cell (a group's mean in one window for one
metric), never a person-level row and never a read of the fact store. A suppressed cell keeps
its group, window and metric with no value and no interval, as everywhere else (attack A9).

The rows come as an Arrow table (``RELEASED_SCHEMA``); :meth:`ReleasedReports.reports` turns
it into a pandas DataFrame (the ``analysis`` extra) and :meth:`ReleasedReports.polars` into a
Polars one when Polars is installed. :func:`export_report` writes one report as CSV (every text
cell made safe for spreadsheets), Parquet or JSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from teamlens.domain import METRICS, Policy, ReleasedTable, Window
from teamlens.domain.spreadsheet import safe_row
from teamlens.errors import ConfigError, ReleaseError
from teamlens.services.release import released_tables, tables_as_json
from teamlens.services.workspace import Workspace, open_workspace
from teamlens.settings import Settings

if TYPE_CHECKING:  # optional: the ``analysis`` extra (pandas) and Polars
    import pandas as pd
    import polars as pl

#: One released cell per row. ``window_start`` is the window's first day (a Monday) and
#: ``window_end`` its last (a Sunday); ``unit`` is the unit ``value``, ``lower`` and ``upper`` are
#: in (hours for time); a suppressed cell has no value and no interval.
RELEASED_SCHEMA = pa.schema(
    [
        ("report_id", pa.string()),
        ("level", pa.string()),
        ("group", pa.string()),
        ("window", pa.string()),
        ("window_start", pa.date32()),
        ("window_end", pa.date32()),
        ("metric", pa.string()),
        ("unit", pa.string()),
        ("value", pa.float64()),
        ("lower", pa.float64()),
        ("upper", pa.float64()),
        ("suppressed", pa.bool_()),
        ("uncertain", pa.bool_()),
    ]
)

ExportFormat = Literal["csv", "parquet", "json"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "parquet", "json")


def released_rows(tables: Sequence[ReleasedTable]) -> pa.Table:
    """The released cells of ``tables`` as rows of ``RELEASED_SCHEMA``, in the tables' order."""
    columns: dict[str, list[Any]] = {name: [] for name in RELEASED_SCHEMA.names}
    for table in tables:
        windows = {key: Window.parse(key) for key in table.windows}
        for cell in table.cells:
            window = windows.get(cell.window) or Window.parse(cell.window)
            row = {
                "report_id": table.report_id,
                "level": table.level,
                "group": cell.group,
                "window": cell.window,
                "window_start": window.start,
                "window_end": window.end - dt.timedelta(days=1),
                "metric": cell.metric,
                "unit": METRICS[cell.metric].display_unit,
                "value": cell.value,
                "lower": cell.lower,
                "upper": cell.upper,
                "suppressed": cell.suppressed,
                "uncertain": cell.uncertain,
            }
            for name, value in row.items():
                columns[name].append(value)
    return pa.table(columns, schema=RELEASED_SCHEMA)


class ReleasedReports:
    """What one installation has released under its active policy, for reading in Python.

    Opening costs no budget and reads no personal data: every call reads the published cells
    afresh, so a release made meanwhile shows up on the next call.
    """

    def __init__(self, ws: Workspace) -> None:
        self.workspace = ws

    def _released(self) -> tuple[Policy, list[ReleasedTable]]:
        return released_tables(self.workspace)

    @property
    def min_group_size(self) -> int:
        """The policy's minimum group size: a suppressed cell is a group of fewer people."""
        return self._released()[0].min_group_size

    def report_ids(self) -> list[str]:
        """The reports that have released something, in the catalogue's order."""
        return [table.report_id for table in self._released()[1]]

    def table(self, report_id: str | None = None) -> pa.Table:
        """The released cells (of ``report_id``, else of every report) as an Arrow table."""
        _, tables = self._released()
        return released_rows(_select(tables, report_id))

    def reports(self) -> pd.DataFrame:
        """Every released cell of every report as a pandas DataFrame (one row per cell)."""
        return _pandas(self.table())

    def report(self, report_id: str) -> pd.DataFrame:
        """The released cells of one report as a pandas DataFrame."""
        return _pandas(self.table(report_id))

    def polars(self, report_id: str | None = None) -> pl.DataFrame:
        """The released cells (of ``report_id``, else all) as a Polars DataFrame (needs Polars)."""
        try:
            import polars as pl
        except ImportError as missing:
            raise ConfigError(
                "Polars is not installed.", "Install it (`pip install polars`), or use .reports() for pandas."
            ) from missing
        frame = pl.from_arrow(self.table(report_id))
        assert isinstance(frame, pl.DataFrame)  # a table gives a frame, never a series
        return frame

    def __repr__(self) -> str:
        return f"ReleasedReports({self.workspace.settings.data_dir})"


def _pandas(table: pa.Table) -> pd.DataFrame:
    try:
        import pandas  # noqa: F401  (only to say clearly when it is missing)
    except ImportError as missing:
        raise ConfigError(
            "pandas is not installed.",
            "Install teamlens with its analysis extra (`pip install 'teamlens[analysis]'`), "
            "or use .table() for an Arrow table.",
        ) from missing
    return table.to_pandas()


def _select(tables: list[ReleasedTable], report_id: str | None) -> list[ReleasedTable]:
    if report_id is None:
        return tables
    chosen = [table for table in tables if table.report_id == report_id]
    if not chosen:
        released = ", ".join(table.report_id for table in tables) or "none yet"
        raise ReleaseError(
            f"Report '{report_id}' has released nothing under the active policy.",
            f"Reports released so far: {released}. "
            f"Release it first with `teamlens release {report_id} --window …`.",
        )
    return chosen


def open_reports(target: str | os.PathLike[str] | Settings | Workspace) -> ReleasedReports:
    """The released reports of the installation in folder ``target`` (or with these settings)."""
    if isinstance(target, Workspace):
        return ReleasedReports(target)
    if isinstance(target, Settings):
        return ReleasedReports(Workspace(target))
    folder = Path(target)
    ws = open_workspace(folder)
    missing = "it does not exist" if not folder.is_dir() else "it holds no governance database"
    if not folder.is_dir() or (
        ws.settings.database_url is None and not (folder / "governance.sqlite").is_file()
    ):
        raise ConfigError(
            f"{folder} is not a teamlens data folder ({missing}).",
            "Pass the folder given to `teamlens init --data-dir` (for the demo, demo-output/data).",
        )
    return ReleasedReports(ws)


def export_report(ws: Workspace, report_id: str, out: Path, fmt: ExportFormat) -> int:
    """Write ``report_id``'s released cells to ``out`` as ``fmt``; returns how many cells were written.

    The file is written beside ``out`` and moved into place whole: a failed export leaves no
    half-written file. JSON is exactly the report's part of ``/api/releases``.
    """
    policy, tables = released_tables(ws)
    chosen = _select(tables, report_id)
    rows = released_rows(chosen)
    partial = out.with_name(out.name + ".partial")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if fmt == "parquet":
            pq.write_table(rows, partial)
        elif fmt == "csv":
            write_csv(rows, partial)
        else:
            document = tables_as_json(policy, chosen)
            partial.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return int(rows.num_rows)


def write_csv(rows: pa.Table, out: Path) -> None:
    """``rows`` as CSV with a header; every text cell starting like a formula gets a leading ``'`` (A30)."""
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(rows.column_names)
        for record in rows.to_pylist():
            writer.writerow(safe_row(_csv_value(value) for value in record.values()))


def _csv_value(value: object) -> object:
    """A cell as CSV text: dates in ISO form, no value as an empty cell, booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else value
