"""The self-contained HTML report: released means with visible 95% intervals, and what they guarantee.

Charts are Vega-Lite specifications built with Altair and rendered to inline SVG by vl-convert, so
the file needs no script, no network and no other file to show everything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import jinja2
import vl_convert

from teamlens.domain import METRICS, Policy, ReleasedCell, ReleasedTable
from teamlens.privacy import rho_to_epsilon

#: Above this many groups a chart turns into a wall of dots; the table carries the numbers.
MAX_CHARTED_GROUPS = 40

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("teamlens.services", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class MetricSection:
    """One metric of one report: an optional chart and the table of every cell."""

    metric: str
    label: str
    unit: str
    chart_svg: str | None
    rows: tuple[ReleasedCell, ...]


@dataclass(frozen=True)
class ReportSection:
    """One catalogue report as released."""

    report_id: str
    title: str
    level: str
    cadence: str
    windows: tuple[str, ...]
    groups: int
    suppressed_groups: int
    metrics: tuple[MetricSection, ...]


@dataclass(frozen=True)
class ReportContext:
    """Everything report.html shows; each field is used by the template (checked by a test).

    ``guarantee`` is the one-sentence promise to workers; ``rho``/``epsilon``/``delta`` the budget
    of the whole policy period; ``sections`` the released reports.
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
    guarantee: str
    generated_at: str
    sections: tuple[ReportSection, ...]


def guarantee_sentence(epsilon: float, delta: float, min_group_size: int) -> str:
    """The promise in words a worker understands."""
    return (
        "Every figure here had random noise added so that, taken together over the whole policy period, "
        "the published results look almost the same whether or not any one person's data was included "
        f"(differential privacy, ε = {epsilon:.2g}, δ = {delta:.0e}); no one can work out one person's "
        f"numbers from them, and groups of fewer than {min_group_size} people are not shown at all."
    )


def _chart_svg(cells: tuple[ReleasedCell, ...]) -> str | None:
    shown = [cell for cell in cells if not cell.suppressed]
    groups = {cell.group for cell in cells}
    if not shown or len(groups) > MAX_CHARTED_GROUPS:
        return None
    data = alt.Data(  # type: ignore[no-untyped-call]
        values=[
            {"group": c.group, "window": c.window, "value": c.value, "lower": c.lower, "upper": c.upper}
            for c in shown
        ]
    )
    base = alt.Chart(data)
    points = base.mark_point(filled=True, size=40).encode(
        x=alt.X("window:O", title=None),
        y=alt.Y("value:Q", title="per person per week"),
        tooltip=["group:N", "window:O", "value:Q", "lower:Q", "upper:Q"],
    )
    bars = base.mark_rule(strokeWidth=2, opacity=0.6).encode(x="window:O", y="lower:Q", y2="upper:Q")
    chart = (
        (bars + points)
        .properties(width=150, height=110)
        .facet(facet=alt.Facet("group:N", title=None), columns=5)
    )
    svg: str = vl_convert.vegalite_to_svg(chart.to_json())
    return svg


def _section(table: ReleasedTable, policy: Policy) -> ReportSection:
    report = policy.report(table.report_id)
    metrics = []
    # Show metrics in the order the catalogue lists them, which is the order people agreed on.
    for name in sorted(table.metrics, key=report.metrics.index):
        definition = METRICS[name]
        cells = tuple(sorted((c for c in table.cells if c.metric == name), key=lambda c: (c.group, c.window)))
        metrics.append(
            MetricSection(
                metric=name,
                label=definition.label,
                unit=definition.display_unit,
                chart_svg=_chart_svg(cells),
                rows=cells,
            )
        )
    group_windows = {(c.group, c.window) for c in table.cells}
    suppressed = {(c.group, c.window) for c in table.cells if c.suppressed}
    return ReportSection(
        report_id=table.report_id,
        title=report.title,
        level=table.level,
        cadence=report.cadence.value,
        windows=table.windows,
        groups=len({group for group, _ in group_windows}),
        suppressed_groups=len(suppressed),
        metrics=tuple(metrics),
    )


def build_context(policy: Policy, tables: list[ReleasedTable]) -> ReportContext:
    """Gather what the report shows from the policy and the released tables."""
    epsilon = rho_to_epsilon(policy.rho, policy.delta)
    return ReportContext(
        title=policy.title,
        organisation=policy.controller,
        policy_id=policy.policy_id,
        policy_version=policy.version,
        period=f"{policy.period_start:%d %b %Y} – {policy.period_end - dt.timedelta(days=1):%d %b %Y}",
        rho=float(policy.rho),
        epsilon=epsilon,
        delta=policy.delta,
        min_group_size=policy.min_group_size,
        guarantee=guarantee_sentence(epsilon, policy.delta, policy.min_group_size),
        generated_at=f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        sections=tuple(_section(table, policy) for table in tables),
    )


def render_report(context: ReportContext) -> str:
    """The report as one self-contained HTML page."""
    fields: dict[str, Any] = {"ctx": context}
    return _TEMPLATES.get_template("report.html").render(**fields)


def write_report(policy: Policy, tables: list[ReleasedTable], path: Path) -> Path:
    """Render the report and write it to ``path`` (atomically: a reader never sees half a file)."""
    html = render_report(build_context(policy, tables))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(html, encoding="utf-8")
    temporary.replace(path)
    return path
