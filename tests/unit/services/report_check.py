"""Read the HTML report back and check every figure it shows against the released cells.

Used by the report's unit tests (hand-made cells of every kind) and by the web tests (a real
release served at ``/``). ``problems`` returns what is wrong, one line each, so a test asserts
an empty list and a teeth case asserts that a tampered page is caught.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

from teamlens.domain import GroupLevel, ReleasedCell, ReleasedTable
from teamlens.services.report_cells import UNCERTAIN_TEXT

#: Coarsest first: the order report sections must come in.
LEVEL_ORDER = [
    GroupLevel.ORGANISATION,
    GroupLevel.DIVISION,
    GroupLevel.DEPARTMENT,
    GroupLevel.LOCATION,
    GroupLevel.TEAM,
]
_NUMBER = r"-?[\d,]+(?:\.\d+)?"
_SHOWN = re.compile(rf"^(?P<value>{_NUMBER}) \((?P<interval>[^)]*)\)$")


@dataclass
class ShownCell:
    """One table cell as the page shows it."""

    report: str
    metric: str
    group: str
    window: str
    reading: str
    text: str
    in_rest: bool


@dataclass
class Panel:
    """One chart panel: its accessible label and how many figures (dots) it draws."""

    report: str
    metric: str
    label: str
    dots: int


@dataclass
class ReadReport:
    """What the page shows: sections in order (with whether their metrics are folded), cells, panels."""

    sections: list[str] = field(default_factory=list)
    folded: dict[str, bool] = field(default_factory=dict)
    cells: list[ShownCell] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = ReadReport()
        self.section = ""
        self.metric = ""
        self.details: list[str] = []  # classes of the open <details>
        self.table: tuple[str, str] | None = None
        self.group: str | None = None
        self.cell: dict[str, str] | None = None
        self.text: list[str] = []
        self.panel: Panel | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "section" and found.get("id", "").startswith("report-"):
            self.section = found["id"].removeprefix("report-")
            self.found.sections.append(self.section)
        elif tag == "details":
            self.details.append(found.get("class", ""))
            if found.get("class") == "metric":
                self.found.folded[self.section] = "open" not in found
        if tag in ("div", "details") and found.get("class") == "metric":
            self.metric = found.get("id", "").removeprefix(f"{self.section}-")
        elif tag == "table" and "data-report" in found:
            self.table = (found["data-report"], found["data-metric"])
        elif tag == "th" and found.get("scope") == "row" and self.table:
            self.group, self.text = "", []
        elif tag == "td" and self.table:
            self.cell, self.text = found, []
        elif tag == "svg" and self.section:
            self.panel = Panel(self.section, self.metric, found.get("aria-label", ""), 0)
        elif tag == "circle" and self.panel is not None:
            self.panel.dots += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "details" and self.details:
            self.details.pop()
        elif tag == "table":
            self.table = None
        elif tag == "th" and self.group == "":
            self.group = "".join(self.text).strip()
        elif tag == "td" and self.cell is not None and self.table and self.group is not None:
            report, metric = self.table
            self.found.cells.append(
                ShownCell(
                    report,
                    metric,
                    self.group,
                    self.cell.get("data-window", ""),
                    self.cell.get("class", ""),
                    " ".join("".join(self.text).split()),
                    "rest" in self.details,
                )
            )
            self.cell = None
        elif tag == "svg" and self.panel is not None:
            self.found.panels.append(self.panel)
            self.panel = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_report(html: str) -> ReadReport:
    """Parse the report page into its sections, cells and chart panels."""
    reader = _Reader()
    reader.feed(html)
    return reader.found


def _decimals(text: str) -> int:
    return len(text.partition(".")[2])


def _close(shown: str, true: float | None) -> bool:
    """True when ``shown`` is ``true`` rounded to the decimals it is printed with."""
    if true is None:
        return False
    return abs(float(shown.replace(",", "")) - true) <= 0.5 * 10 ** -_decimals(shown) + 1e-9


def _cell_problems(shown: ShownCell, cell: ReleasedCell | None, min_group_size: int) -> list[str]:
    where = f"{shown.report}/{shown.metric}/{shown.group}/{shown.window}"
    if cell is None or cell.suppressed:
        expected = f"fewer than {min_group_size} people"
        return (
            [] if shown.text == expected and shown.reading == "suppressed" else [f"{where}: {shown.text!r}"]
        )
    if cell.uncertain:
        ok = (
            shown.text == UNCERTAIN_TEXT and shown.reading == "uncertain" and not re.search(r"\d", shown.text)
        )
        return [] if ok else [f"{where}: uncertain cell shows {shown.text!r}"]
    match = _SHOWN.match(shown.text)
    if match is None:
        return [f"{where}: shown cell reads {shown.text!r}"]
    value, interval = match["value"], match["interval"]
    problems = [] if _close(value, cell.value) else [f"{where}: {value} is not {cell.value}"]
    if interval.startswith("up to "):
        ok = cell.clamped and float(value) == 0 and _close(interval[6:], cell.upper)
        return problems + (
            [] if ok and shown.reading == "at-zero" else [f"{where}: bad one-sided {shown.text!r}"]
        )
    if interval.startswith("at least "):
        ok = cell.clamped and _close(interval[9:], cell.lower) and _close(value, cell.upper)
        return problems + (
            [] if ok and shown.reading == "at-bound" else [f"{where}: bad one-sided {shown.text!r}"]
        )
    if interval == "exact":
        return problems + ([] if cell.lower == cell.upper else [f"{where}: 'exact' on a noisy cell"])
    low, dash, high = interval.partition("–")
    if not dash or low == high or not (_close(low, cell.lower) and _close(high, cell.upper)):
        problems.append(f"{where}: interval {interval!r} is not {cell.lower}–{cell.upper} (or is zero-width)")
    if shown.reading != "value":
        problems.append(f"{where}: a two-sided figure marked {shown.reading!r}")
    return problems


def problems(html: str, tables: Sequence[ReleasedTable], min_group_size: int) -> list[str]:
    """Everything the page shows that disagrees with ``tables`` (see the module docstring)."""
    page = read_report(html)
    found: list[str] = []
    released = {
        (table.report_id, cell.metric, cell.group, cell.window): cell
        for table in tables
        for cell in table.cells
    }
    seen: dict[tuple[str, str, str, str], int] = {}
    for shown in page.cells:
        key = (shown.report, shown.metric, shown.group, shown.window)
        seen[key] = seen.get(key, 0) + 1
        found.extend(_cell_problems(shown, released.get(key), min_group_size))
    found.extend(f"{'/'.join(key)}: not shown" for key in released if key not in seen)
    found.extend(f"{'/'.join(key)}: shown {count} times" for key, count in seen.items() if count > 1)
    # Rows behind "show all" have no figure worth reading; the rows before it have one each.
    rows: dict[tuple[str, str, str], list[ShownCell]] = {}
    for shown in page.cells:
        rows.setdefault((shown.report, shown.metric, shown.group), []).append(shown)
    for key, cells in rows.items():
        numbers = any(_SHOWN.match(cell.text) for cell in cells)
        if cells[0].in_rest == numbers:
            where = "behind 'show all'" if numbers else "among the rows worth reading"
            found.append(f"{'/'.join(key)}: {where} but {'with' if numbers else 'without'} a figure")
    if "±" in html:
        found.append("the page prints ±")
    for low, high in re.findall(rf"({_NUMBER})–({_NUMBER})", html):
        if low == high:
            found.append(f"zero-width interval {low}–{high}")
    levels = {table.report_id: LEVEL_ORDER.index(GroupLevel(table.level)) for table in tables}
    ranks = [levels[report] for report in page.sections if report in levels]
    if ranks != sorted(ranks):
        found.append(f"sections are not coarsest first: {page.sections}")
    for panel in page.panels:
        group = panel.label.partition(":")[0]
        readable = [
            cell
            for cell in page.cells
            if (cell.report, cell.metric, cell.group) == (panel.report, panel.metric, group)
            and _SHOWN.match(cell.text)
        ]
        if panel.dots == 0 or panel.dots != len(readable):
            found.append(
                f"panel {panel.report}/{panel.metric}/{group}: {panel.dots} dots for {len(readable)} figures"
            )
    return found
