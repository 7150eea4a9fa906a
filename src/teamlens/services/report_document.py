"""The self-contained HTML report: questions first, every figure with its 95% interval.

The report opens with a short "how to read this", then answers the questions readers ask, in
their order (``report_questions``): per question and metric the organisation's headline with
its trend and interval, and the coarser levels' groups compared with it (a group "differs"
only when the difference's 95% interval excludes 0). The collaboration network follows, when
one was released. Last come the tables: one section per released catalogue report, coarsest
level first (organisation, division, department, location, team). In each section a metric has a
trend chart (one panel per group with a figure worth reading, a line with its 95% band:
``report_charts``) and a table of groups down and windows across; the rows with a figure worth
reading come first and the rest sit behind a "show all N groups" disclosure. Team-level tables
are folded away entirely (they are the least reliable: small groups). Each cell reads as
``report_cells`` says: a number and its interval, a one-sided interval at 0, "too uncertain at
this budget" or "fewer than k people". How a level is laid out is data (``LAYOUTS``), so adding
a level or a question-led section is a matter of adding a row, not a branch. Charts are inline
SVG written by the templates; the file needs no script, no network and no other file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from teamlens.domain import METRICS, GroupLevel, Policy, ReleasedTable, ReportKind
from teamlens.privacy import rho_to_epsilon
from teamlens.privacy.assemble import UNCERTAIN_WIDTH
from teamlens.services.report_cells import (
    CellText,
    Column,
    Reading,
    cell_text,
    column,
    fewer_than,
    table_decimals,
)
from teamlens.services.report_charts import Chart, trend_chart
from teamlens.services.report_network import NetworkView, network_from_tables
from teamlens.services.report_questions import QuestionSection, question_sections

#: Above this many groups with a figure worth reading, a chart is a wall of panels: the table says it.
MAX_CHARTED_GROUPS = 36

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("teamlens.services", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class Layout:
    """How a level's section is shown: its place in the report, whether charted, whether folded."""

    rank: int
    charted: bool
    folded: bool


#: Coarsest first. Team tables are folded to the rows worth reading and carry no chart.
LAYOUTS: dict[GroupLevel, Layout] = {
    GroupLevel.ORGANISATION: Layout(0, charted=True, folded=False),
    GroupLevel.DIVISION: Layout(1, charted=True, folded=False),
    GroupLevel.DEPARTMENT: Layout(2, charted=True, folded=False),
    GroupLevel.LOCATION: Layout(3, charted=True, folded=False),
    GroupLevel.TEAM: Layout(4, charted=False, folded=True),
}


@dataclass(frozen=True)
class Row:
    """One group's cells, one per column."""

    group: str
    cells: tuple[CellText, ...]

    @property
    def worth_reading(self) -> bool:
        """True when at least one of its cells shows a number."""
        return any(cell.worth_reading for cell in self.cells)


@dataclass(frozen=True)
class MetricTable:
    """One metric of a section: ``label`` and ``unit`` ("emails sent per person per week").

    ``readable`` are the rows with a figure worth reading, ``rest`` the others (all too
    uncertain or suppressed); ``chart`` is None when nothing would be drawn.
    """

    metric: str
    label: str
    unit: str
    chart: Chart | None
    readable: tuple[Row, ...]
    rest: tuple[Row, ...]

    @property
    def groups(self) -> int:
        """How many groups the table holds."""
        return len(self.readable) + len(self.rest)


@dataclass(frozen=True)
class ReportSection:
    """One catalogue report as released, with what its readers need to place each figure.

    ``level``/``levels`` name a group ("department", "departments"); ``span`` says which
    windows ("6 months, Jan 2026 to Jun 2026"); ``counts`` how many cells read each way;
    ``release_id`` the newest release that published them.
    """

    report_id: str
    title: str
    level: str
    levels: str
    cadence: str
    span: str
    columns: tuple[Column, ...]
    layout: Layout
    metrics: tuple[MetricTable, ...]
    counts: dict[Reading, int]
    release_id: str

    @property
    def groups(self) -> int:
        """How many groups the section covers."""
        return self.metrics[0].groups if self.metrics else 0

    @property
    def readable(self) -> int:
        """Cells that show a number."""
        return sum(self.counts.get(kind, 0) for kind in Reading if kind not in _NO_NUMBER)

    @property
    def cells(self) -> int:
        """Every cell of the section."""
        return sum(self.counts.values())

    def count(self, reading: str) -> int:
        """Cells that read as ``reading`` ("uncertain", "suppressed", …)."""
        return self.counts.get(Reading(reading), 0)


_NO_NUMBER = (Reading.UNCERTAIN, Reading.SUPPRESSED)


@dataclass(frozen=True)
class ReportContext:
    """Everything report.html shows; each field is used by the template.

    ``guarantee`` is the promise to workers in plain words; ``fewer_than`` what a suppressed
    cell says; ``uncertain_width`` when a figure is too uncertain ("half"); ``rho``/``epsilon``/
    ``delta`` the budget of the whole policy period and ``mechanism`` how noise was added, both
    for the technical details at the end; ``questions`` the answers per question, in the order
    readers ask them; ``sections`` the released reports' tables, coarsest first; ``network`` the
    released collaboration network, if any.
    """

    title: str
    organisation: str
    policy_id: str
    policy_version: int
    period: str
    rho: float
    epsilon: float
    delta: float
    min_group_size: int
    fewer_than: str
    uncertain_width: str
    guarantee: str
    mechanism: str
    generated_at: str
    questions: tuple[QuestionSection, ...]
    sections: tuple[ReportSection, ...]
    network: NetworkView | None = None


def guarantee_sentence(epsilon: float, delta: float, min_group_size: int) -> str:
    """The promise in words a worker understands, with the budget (for the generated documents)."""
    return (
        "Every figure here had random noise added so that, taken together over the whole policy period, "
        "the published results look almost the same whether or not any one person's data was included "
        f"(differential privacy, ε = {epsilon:.2g}, δ = {delta:.0e}); no one can work out one person's "
        f"numbers from them, and groups of fewer than {min_group_size} people are not shown at all."
    )


def plain_guarantee(min_group_size: int) -> str:
    """The promise without the budget's symbols, for the report's first screen."""
    return (
        "Every figure here is an average for a group, with random noise added so that the published "
        "results look almost the same whether or not any one person's data was included. No one can work "
        f"out one person's numbers from them, and groups of fewer than {min_group_size} people are not "
        "shown at all."
    )


def _span(cadence: str, columns: Sequence[Column]) -> str:
    if not columns:
        return "no windows"
    count = f"{len(columns)} {cadence}{'' if len(columns) == 1 else 's'}"
    if len(columns) == 1:
        return f"{count}, {columns[0].label}"
    return f"{count}, {columns[0].label} to {columns[-1].label}"


def _unit(name: str) -> str:
    definition = METRICS[name]
    return f"{definition.display_unit} per person per week"


def _metric(
    table: ReleasedTable, name: str, columns: Sequence[Column], groups: Sequence[str], layout: Layout
) -> MetricTable:
    by_key = {(cell.group, cell.window): cell for cell in table.cells if cell.metric == name}
    decimals = table_decimals(by_key.values())
    rows = []
    for group in groups:
        cells = []
        for window in columns:
            cells.append(cell_text(by_key.get((group, window.key)), table.min_group_size, decimals))
        rows.append(Row(group, tuple(cells)))
    readable = tuple(row for row in rows if row.worth_reading)
    chart = None
    if layout.charted and len(readable) <= MAX_CHARTED_GROUPS:
        labels = [window.short for window in columns]
        chart = trend_chart(labels, [(row.group, row.cells) for row in readable], _unit(name))
    return MetricTable(
        metric=name,
        label=METRICS[name].label,
        unit=_unit(name),
        chart=chart,
        readable=readable,
        rest=tuple(row for row in rows if not row.worth_reading),
    )


def _section(table: ReleasedTable, policy: Policy) -> ReportSection:
    report = policy.report(table.report_id)
    layout = LAYOUTS[report.level]
    columns = tuple(column(key) for key in table.windows)
    groups = sorted({cell.group for cell in table.cells})
    # Metrics in the order the catalogue lists them, which is the order people agreed on.
    names = sorted(table.metrics, key=report.metrics.index)
    metrics = tuple(_metric(table, name, columns, groups, layout) for name in names)
    counts: dict[Reading, int] = {}
    for metric in metrics:
        for row in (*metric.readable, *metric.rest):
            for cell in row.cells:
                counts[cell.reading] = counts.get(cell.reading, 0) + 1
    return ReportSection(
        report_id=table.report_id,
        title=report.title,
        level=table.level,
        levels=table.level if len(groups) == 1 else f"{table.level}s",  # "1 organisation"
        cadence=report.cadence.value,
        span=_span(report.cadence.value, columns),
        columns=columns,
        layout=layout,
        metrics=metrics,
        counts=counts,
        release_id=table.release_id,
    )


def _width_words(width: float) -> str:
    return "half" if width == 0.5 else f"{width:.0%}"


def build_context(
    policy: Policy, tables: list[ReleasedTable], network: NetworkView | None = None
) -> ReportContext:
    """Gather what the report shows from the policy and the released tables (and network, if any)."""
    epsilon = rho_to_epsilon(policy.rho, policy.delta)
    networks = [table for table in tables if policy.report(table.report_id).kind is ReportKind.NETWORK]
    network = network or network_from_tables(policy, networks)
    tables = [table for table in tables if table not in networks]
    order = [report.report_id for report in policy.reports]
    ranked = sorted(
        tables,
        key=lambda table: (LAYOUTS[policy.report(table.report_id).level].rank, order.index(table.report_id)),
    )
    mechanisms = sorted({table.mechanism for table in [*tables, *networks]})
    return ReportContext(
        title=policy.title,
        organisation=policy.controller,
        policy_id=policy.policy_id,
        policy_version=policy.version,
        period=f"{policy.period_start:%-d %b %Y} – {policy.period_end - dt.timedelta(days=1):%-d %b %Y}",
        rho=float(policy.rho),
        epsilon=epsilon,
        delta=policy.delta,
        min_group_size=policy.min_group_size,
        fewer_than=fewer_than(policy.min_group_size),
        uncertain_width=_width_words(UNCERTAIN_WIDTH),
        guarantee=plain_guarantee(policy.min_group_size),
        mechanism="; ".join(mechanisms),
        generated_at=f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        questions=question_sections(policy, ranked),
        sections=tuple(_section(table, policy) for table in ranked),
        network=network,
    )


def render_report(context: ReportContext) -> str:
    """The report as one self-contained HTML page."""
    return _TEMPLATES.get_template("report.html").render(ctx=context, Reading=Reading)


def write_report(policy: Policy, tables: list[ReleasedTable], path: Path) -> Path:
    """Render the report and write it to ``path`` (atomically: a reader never sees half a file)."""
    return save_report(build_context(policy, tables), path)


def save_report(context: ReportContext, path: Path) -> Path:
    """Render ``context`` and write it to ``path`` atomically."""
    html = render_report(context)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(html, encoding="utf-8")
    temporary.replace(path)
    return path
