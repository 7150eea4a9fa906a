# ruff: noqa: F811 (the fixtures policy and tables come from test_report_document)
"""The report's network section draws released edges only: a shaded square for each edge worth
reading, a blank one for an uncertain edge, no group that was not shown, and the share of
collaboration outside one's own group with its interval; nothing at all when no network was released."""

from __future__ import annotations

import re

from teamlens.domain import Policy, ReleasedTable
from teamlens.privacy.network import Edge
from teamlens.services.report_document import build_context, render_report
from teamlens.services.report_network import network_view

from .test_report_document import policy, tables  # noqa: F401 (fixtures)


def _edge(source: str, target: str, value: float, sd: float) -> Edge:
    half = 1.96 * sd
    return Edge(
        source,
        target,
        value,
        max(value, 0.0),
        max(value - half, 0.0),
        max(value, 0.0) + half,
        sd,
        value < 0,
        2 * half > max(value, 0.0),
    )


EDGES = [
    _edge("Alpha", "Alpha", 60.0, 2.0),
    _edge("Alpha", "Beta <b>", 20.0, 2.0),
    _edge("Beta <b>", "Alpha", 1.0, 2.0),  # too uncertain: a blank square
    _edge("Beta <b>", "Beta <b>", 100.0, 2.0),
]


def test_the_heatmap_shades_edges_worth_reading_and_leaves_uncertain_ones_blank() -> None:
    view = network_view(EDGES, level="department", unit="messages per week", span="Jan 2026 to Feb 2026")
    assert view is not None and view.chart is not None
    shades = {cell.label.split(":")[0]: cell.shade for cell in view.chart.cells}
    assert shades["From Beta <b> to Alpha"] == 0.0 and shades["From Beta <b> to Beta <b>"] == 1.0
    assert 0.12 < shades["From Alpha to Beta <b>"] < shades["From Alpha to Alpha"] < 1.0
    assert view.uncertain == 1
    # Everyone: 21 of 181 messages a week cross departments.
    assert view.outside == "12%" and re.fullmatch(r"\d+%–\d+%", view.outside_interval)
    assert dict(view.by_group)["Alpha"].startswith("25% (")


def test_the_network_is_drawn_after_the_questions_and_before_the_tables(
    policy: Policy, tables: list[ReleasedTable]
) -> None:
    view = network_view(EDGES, level="department", unit="messages per week", span="Jan 2026 to Feb 2026")
    html = render_report(build_context(policy, tables, view))
    assert html.index('id="q-email-chat"') < html.index('id="q-network"') < html.index('id="tables"')
    section = html[html.index('id="q-network"') : html.index('id="tables"')]
    assert section.count('class="heat"') == 3 and section.count('class="blank"') == 1
    assert "Beta &lt;b&gt;" in section and "Beta <b>" not in section
    assert "<figcaption>Each square is the messages per week sent from the department of its row" in section


def test_no_released_network_draws_no_network_section(policy: Policy, tables: list[ReleasedTable]) -> None:
    assert network_view([], level="department", unit="messages per week", span="") is None
    assert 'id="q-network"' not in render_report(build_context(policy, tables))
