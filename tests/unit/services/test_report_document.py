"""The HTML report reads every released cell as it is: numbers from the cells, honest intervals,
phrases instead of numbers where a figure is too uncertain or a group too small, the coarsest
levels first and team tables folded, and charts that draw only figures worth reading."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from teamlens import services
from teamlens.domain import Policy, ReleasedCell, ReleasedTable
from teamlens.governance import parse_policy
from teamlens.services.report_cells import UNCERTAIN_TEXT, Reading, cell_text, table_decimals
from teamlens.services.report_charts import nice_ceiling, trend_chart
from teamlens.services.report_document import build_context, render_report

from .report_check import problems, read_report

ORG_REPORT = """[[reports]]
id = "organisation-monthly"
title = "The organisation, month by month"
level = "organisation"
cadence = "month"
metrics = ["emails_sent", "meeting_minutes"]
budget_share = "0.3"

[[reports]]
id = "department-monthly\""""
K = 10


@pytest.fixture(scope="module")
def policy() -> Policy:
    text = services.template().replace('[[reports]]\nid = "department-monthly"', ORG_REPORT)
    # Three reports of 0.3 each leave room for the template's small bounds_share.
    return parse_policy(re.sub(r'budget_share = "[^"]+"', 'budget_share = "0.3"', text), "test.toml").policy


def shown(
    group: str, window: str, metric: str, value: float, lower: float, upper: float, **flags: bool
) -> ReleasedCell:
    return ReleasedCell(group, window, metric, value, lower, upper, total=1.0, person_weeks=1.0, **flags)


def hidden(group: str, window: str, metric: str) -> ReleasedCell:
    return ReleasedCell(group, window, metric, None, None, None)


def table(policy: Policy, report_id: str, cells: list[ReleasedCell]) -> ReleasedTable:
    report = policy.report(report_id)
    return ReleasedTable(
        release_id=f"r-{report_id}",
        report_id=report_id,
        policy_id=policy.policy_id,
        policy_version=policy.version,
        level=report.level.value,
        windows=tuple(sorted({cell.window for cell in cells})),
        metrics=tuple(sorted({cell.metric for cell in cells})),
        cells=tuple(cells),
        rho_charged=0.1,
        min_group_size=K,
        released_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
    )


@pytest.fixture(scope="module")
def tables(policy: Policy) -> list[ReleasedTable]:
    """A team, a department and an organisation report (in that order), with every kind of cell."""
    months = ("2026-01", "2026-02")
    organisation = [
        shown("Example Ltd", "2026-01", "emails_sent", 30.44, 28.1, 32.9),
        shown("Example Ltd", "2026-02", "emails_sent", 31.2, 29.0, 33.3),
        shown("Example Ltd", "2026-01", "meeting_minutes", 6.24, 5.93, 6.55),
        shown("Example Ltd", "2026-02", "meeting_minutes", 6.5, 6.1, 6.9),
    ]
    departments = []
    for metric in ("emails_sent", "meeting_minutes"):
        departments += [
            shown("Alpha", months[0], metric, 12.25, 9.5, 15.0),
            shown("Alpha", months[1], metric, 13.75, 11.0, 16.5),
            shown("Beta", months[0], metric, 14.0, 1.0, 27.0, uncertain=True),
            shown("Beta", months[1], metric, 0.0, 0.0, 30.0, clamped=True, uncertain=True),
            hidden("Gamma", months[0], metric),
            hidden("Gamma", months[1], metric),
            shown("Delta", months[0], metric, 0.0, 0.0, 3.21, clamped=True),
            shown("Delta", months[1], metric, 20.0, 17.46, 20.0, clamped=True),
            shown("Epsilon", months[0], metric, 3.2149, 3.2101, 3.2199),
            shown("Epsilon", months[1], metric, 4.0, 4.0, 4.0),
            shown("Zeta <b>&", months[0], metric, 8.0, 6.5, 9.5),
            hidden("Zeta <b>&", months[1], metric),
        ]
    teams = [
        shown(f"Team {n:02d}", "2026-Q1", "emails_sent", 20.0 + n, 10.0, 40.0, uncertain=True)
        for n in range(30)
    ]
    teams += [hidden(f"Team {n:02d}", "2026-Q1", "emails_sent") for n in range(30, 38)]
    teams += [shown(f"Team {n:02d}", "2026-Q1", "emails_sent", 25.0, 22.5, 27.5) for n in range(38, 41)]
    return [
        table(policy, "team-quarterly", teams),
        table(policy, "department-monthly", departments),
        table(policy, "organisation-monthly", organisation),
    ]


@pytest.fixture(scope="module")
def html(policy: Policy, tables: list[ReleasedTable]) -> str:
    return render_report(build_context(policy, tables))


def test_every_figure_reads_as_its_released_cell(html: str, tables: list[ReleasedTable]) -> None:
    assert problems(html, tables, K) == []
    texts = {cell.text for cell in read_report(html).cells}
    assert {"0.0 (up to 3.2)", "20.0 (at least 17.5)", "3.21 (3.21–3.22)", "4.0 (exact)"} <= texts


@pytest.mark.parametrize(
    ("before", "after", "caught"),
    [
        (">30.4<", ">31.4<", "is not"),  # a number that is not the cell's
        (
            f'data-window="2026-01"><span class="phrase">{UNCERTAIN_TEXT}</span>',
            'data-window="2026-01"><b class="v">14.0</b><span class="ci"> (1.0–27.0)</span>',
            "uncertain",
        ),
        ("(9.5–15.0)", "(9.5–9.5)", "zero-width"),
        ('"ci"> (up to 3.2)', '"ci"> (0.0–3.2)', "two-sided"),
        (
            '<td class="suppressed" data-window="2026-01"><span class="phrase">fewer than 10 people',
            '<td class="suppressed" data-window="2026-01"><span class="phrase">fewer than 10 people (3)',
            "Gamma",
        ),
    ],
)
def test_teeth_a_page_that_misreads_a_cell_is_caught(
    html: str, tables: list[ReleasedTable], before: str, after: str, caught: str
) -> None:
    assert before in html
    found = problems(html.replace(before, after, 1), tables, K)
    assert any(caught in problem for problem in found), found


def test_the_coarsest_levels_come_first_and_team_tables_are_folded_without_charts(html: str) -> None:
    page = read_report(html)
    assert page.sections == ["organisation-monthly", "department-monthly", "team-quarterly"]
    assert page.folded == {"team-quarterly": True}
    assert {panel.report for panel in page.panels} == {"organisation-monthly", "department-monthly"}
    assert html.index('id="how-to-read"') < html.index('id="report-organisation-monthly"')
    team_rows = {(cell.group, cell.in_rest) for cell in page.cells if cell.report == "team-quarterly"}
    assert {group for group, rest in team_rows if not rest} == {"Team 38", "Team 39", "Team 40"}
    assert "Show all 41 teams: 38 more with no figure worth reading" in html


def test_panels_are_drawn_only_for_groups_with_a_figure_worth_reading(html: str) -> None:
    panels = {(panel.metric, panel.label.partition(":")[0]) for panel in read_report(html).panels}
    assert ("emails_sent", "Alpha") in panels and ("emails_sent", "Delta") in panels
    assert not any(group in ("Beta", "Gamma") for _, group in panels)  # nothing worth reading: no panel


def test_each_table_says_its_unit_and_windows_and_names_are_escaped(html: str) -> None:
    assert "Meeting hours, hours per person per week, by department and month" in html
    assert "Emails sent, emails sent per person per week, by team and quarter" in html
    assert ">Jan 2026<small>29 Dec–1 Feb</small>" in html and ">Q1 2026<small>29 Dec–29 Mar</small>" in html
    assert "Zeta &lt;b&gt;&amp;" in html and "Zeta <b>" not in html


def test_the_budget_s_symbols_are_kept_for_the_technical_details(html: str) -> None:
    technical = html.index('id="technical-details"')
    for symbol in ("ρ = ", "ε = ", "δ = "):
        assert html.index(symbol) > technical
    assert "<script" not in html


def test_a_policy_with_nothing_released_says_so(policy: Policy) -> None:
    assert "Nothing has been released yet under this policy." in render_report(build_context(policy, []))


@pytest.mark.parametrize(
    ("cell", "decimals", "reading", "plain"),
    [
        (shown("a", "2026-01", "emails_sent", 6.24, 5.83, 6.61), 1, Reading.VALUE, "6.2 (5.8–6.6)"),
        (shown("a", "2026-01", "emails_sent", 152.3, 128.0, 176.9), 0, Reading.VALUE, "152 (128–177)"),
        (
            shown("a", "2026-01", "emails_sent", 0.0, 0.0, 3.21, clamped=True),
            1,
            Reading.AT_ZERO,
            "0.0 (up to 3.2)",
        ),
        (
            shown("a", "2026-01", "emails_sent", 0.0, 0.0, 0.031, clamped=True),
            1,
            Reading.AT_ZERO,
            "0.00 (up to 0.03)",
        ),
        (
            shown("a", "2026-01", "emails_sent", 20.0, 17.46, 20.0, clamped=True),
            1,
            Reading.AT_BOUND,
            "20.0 (at least 17.5)",
        ),
        (shown("a", "2026-01", "emails_sent", 3.2149, 3.2101, 3.2199), 1, Reading.VALUE, "3.21 (3.21–3.22)"),
        (shown("a", "2026-01", "emails_sent", 4.0, 4.0, 4.0), 1, Reading.EXACT, "4.0 (exact)"),
        (
            shown("a", "2026-01", "emails_sent", 9.0, 0.0, 30.0, uncertain=True),
            1,
            Reading.UNCERTAIN,
            UNCERTAIN_TEXT,
        ),
        (hidden("a", "2026-01", "emails_sent"), 1, Reading.SUPPRESSED, "fewer than 10 people"),
        (None, 1, Reading.SUPPRESSED, "fewer than 10 people"),
    ],
)
def test_a_cell_reads_as_its_kind_says(
    cell: ReleasedCell | None, decimals: int, reading: Reading, plain: str
) -> None:
    text = cell_text(cell, K, decimals)
    assert (text.reading, text.plain()) == (reading, plain)
    assert text.worth_reading == (reading not in (Reading.UNCERTAIN, Reading.SUPPRESSED))


@pytest.mark.parametrize(
    ("half", "decimals"), [(24.0, 0), (10.0, 0), (7.0, 1), (0.5, 1), (0.4, 2), (0.01, 3)]
)
def test_a_table_prints_the_decimals_its_intervals_support(half: float, decimals: int) -> None:
    cells = [shown("a", "2026-01", "emails_sent", 50.0, 50.0 - half, 50.0 + half)] * 3
    noise = [
        shown("b", "2026-01", "emails_sent", 50.0, 0.0, 500.0, uncertain=True),
        hidden("c", "2026-01", "emails_sent"),
    ]
    assert table_decimals(cells + noise) == decimals


def test_a_trend_needs_two_windows_and_a_figure_and_breaks_at_gaps() -> None:
    value = cell_text(shown("a", "2026-01", "emails_sent", 5.0, 4.0, 6.0), K)
    gap = cell_text(hidden("a", "2026-02", "emails_sent"), K)
    assert trend_chart(["Jan"], [("a", [value])], "x") is None
    assert trend_chart(["Jan", "Feb"], [("a", [gap, gap])], "x") is None
    chart = trend_chart(
        ["Jan", "Feb", "Mar", "Apr"], [("a", [value, gap, value, value]), ("b", [gap] * 4)], "x"
    )
    assert chart is not None and [panel.heading for panel in chart.panels] == ["a"]
    runs = chart.panels[0].runs
    assert [len(run.dots) for run in runs] == [1, 2] and runs[0].band == "" and runs[1].band
    assert chart.y_ticks[-1][1] == "6"  # the shared scale reaches the highest interval's top


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0.0, 1.0), (3.21, 4.0), (6.0, 6.0), (61.0, 80.0), (176.9, 200.0), (0.031, 0.04)]
)
def test_the_scale_s_top_is_a_round_number_above_everything_drawn(value: float, ceiling: float) -> None:
    assert nice_ceiling(value) == pytest.approx(ceiling)
