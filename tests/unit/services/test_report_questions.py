# ruff: noqa: F811 (the fixtures policy and tables come from test_report_document)
"""The report answers questions: per question the organisation's headline with its trend and
interval, then groups compared with it — marked as differing only when the 95% interval of the
difference (from the released means and their variances) excludes 0 — before any table, with
one readable caption per chart and no chart drawn empty."""

from __future__ import annotations

import math
import re

import pytest

from teamlens.domain import METRICS, Policy, ReleasedCell, ReleasedTable
from teamlens.services.report_document import build_context, render_report
from teamlens.services.report_questions import (
    QUESTION_OF_METRIC,
    QUESTIONS,
    Z95,
    difference,
    mean_sd,
    question_of,
    question_sections,
)

from .test_report_document import hidden, policy, shown, table, tables  # noqa: F401 (fixtures)

ORG = "Example Ltd"


def test_every_metric_of_the_catalogue_answers_one_known_question() -> None:
    # The catalogue's own question attribute decides (issue 11's metrics half); the older map agrees.
    assert {name: question_of(name).key for name in METRICS} == {
        name: definition.question.key for name, definition in METRICS.items()
    }
    assert set(QUESTION_OF_METRIC) <= set(METRICS)
    assert all(question_of(name).key == key for name, key in QUESTION_OF_METRIC.items())
    assert set(QUESTION_OF_METRIC.values()) <= {question.key for question in QUESTIONS}


def test_a_mean_s_sd_comes_from_its_total_and_person_weeks_by_the_delta_method() -> None:
    cell = ReleasedCell(
        "a",
        "2026-01",
        "emails_sent",
        5.0,
        4.0,
        6.0,
        total=500.0,
        person_weeks=100.0,
        sd_total=20.0,
        sd_person_weeks=3.0,
    )
    assert mean_sd(cell) == pytest.approx(math.hypot(20.0 / 100.0, 500.0 * 3.0 / 100.0**2))
    bare = shown("a", "2026-01", "emails_sent", 5.0, 4.0, 6.0)  # no SDs: the interval's half-width / 1.96
    assert mean_sd(bare) == pytest.approx(1.0 / Z95)


@pytest.mark.parametrize(
    ("value", "lower", "upper", "differs"),
    [
        (30.0, 28.0, 32.0, False),  # well inside the organisation's interval
        (25.0, 23.0, 27.0, True),  # intervals apart
        (27.5, 25.5, 29.5, True),  # intervals overlap, yet the difference's interval excludes 0
        (28.5, 26.5, 30.5, False),  # overlap and a difference inside the noise
    ],
)
def test_a_group_differs_only_when_the_difference_s_interval_excludes_zero(
    value: float, lower: float, upper: float, differs: bool
) -> None:
    organisation = shown(ORG, "2026-02", "emails_sent", 31.2, 29.0, 33.3)
    group = shown("Alpha", "2026-02", "emails_sent", value, lower, upper)
    moved = difference(group, organisation)
    assert moved is not None
    half = Z95 * math.hypot((upper - lower) / (2 * Z95), (33.3 - 29.0) / (2 * Z95))
    assert (moved.lower, moved.upper) == pytest.approx((value - 31.2 - half, value - 31.2 + half))
    assert moved.distinguishable is differs


def test_no_difference_is_claimed_for_a_clamped_uncertain_or_hidden_figure() -> None:
    organisation = shown(ORG, "2026-02", "emails_sent", 31.2, 29.0, 33.3)
    assert difference(shown("a", "2026-02", "emails_sent", 0.0, 0.0, 3.0, clamped=True), organisation) is None
    assert (
        difference(shown("a", "2026-02", "emails_sent", 9.0, 0.0, 30.0, uncertain=True), organisation) is None
    )
    assert difference(hidden("a", "2026-02", "emails_sent"), organisation) is None


def test_questions_come_in_the_reader_s_order_before_any_table(
    policy: Policy,
    tables: list[ReleasedTable],
) -> None:
    sections = question_sections(policy, tables)
    keys = [section.question.key for section in sections]
    assert keys == [question.key for question in QUESTIONS if question.key in keys]
    assert keys == ["meeting-load", "email-chat"]
    html = render_report(build_context(policy, tables))
    assert html.index('id="q-meeting-load"') < html.index('id="q-email-chat"') < html.index('id="tables"')
    assert html.index('id="tables"') < html.index('id="report-organisation-monthly"')


def test_the_headline_is_the_organisation_s_latest_figure_with_its_trend(
    policy: Policy,
    tables: list[ReleasedTable],
) -> None:
    emails = next(
        a for s in question_sections(policy, tables) for a in s.answers if a.metric == "emails_sent"
    )
    assert emails.headline is not None
    assert (emails.headline.window, emails.headline.latest.plain()) == ("Feb 2026", "31.2 (29.0–33.3)")
    assert emails.headline.trend is not None and len(emails.headline.trend.panels) == 1
    assert emails.headline.change == "No change since Jan 2026 can be told from the noise."


def test_comparisons_mark_only_groups_that_differ_and_never_rank(
    policy: Policy,
    tables: list[ReleasedTable],
) -> None:
    emails = next(
        a for s in question_sections(policy, tables) for a in s.answers if a.metric == "emails_sent"
    )
    (departments,) = emails.comparisons
    assert departments.window == "Feb 2026" and departments.against_organisation
    rows = {row.group: row.differs for row in departments.rows}
    # Feb: Alpha 13.75 (11.0–16.5) and Epsilon 4.0 exact are below 31.2 (29.0–33.3); Delta is at
    # its bound (clamped: no difference claimed); Beta is too uncertain and Zeta hidden: not drawn.
    assert rows == {"Alpha": "below the organisation", "Delta": "", "Epsilon": "below the organisation"}
    assert [row.group for row in departments.rows] == sorted(rows)  # alphabetical, never by value
    assert departments.hidden == 3  # Beta, Gamma, Zeta
    assert departments.chart is not None and len(departments.chart.rows) == 3
    assert sum(dot.differs for dot in departments.chart.rows) == 2


def test_every_question_chart_has_one_readable_sentence_and_draws_something(
    policy: Policy,
    tables: list[ReleasedTable],
) -> None:
    html = render_report(build_context(policy, tables))
    questions = html[html.index('id="q-meeting-load"') : html.index('id="tables"')]
    figures = re.findall(r'<figure class="chart (trend|compare)">(.*?)</figure>', questions, re.S)
    assert {kind for kind, _ in figures} == {"trend", "compare"}
    for _, body in figures:
        caption = re.search(r"<figcaption>(.*?)</figcaption>", body, re.S)
        assert caption is not None
        text = caption.group(1).strip()
        assert text.endswith(".") and text.count(". ") == 0 and len(text.split()) < 45
        assert "<circle" in body  # no empty chart
    assert questions.count('class="flag"') == 4  # Alpha and Epsilon, for each of the two metrics


def test_a_metric_with_nothing_worth_reading_gets_no_chart_only_a_mention(
    policy: Policy, tables: list[ReleasedTable]
) -> None:
    noisy = [
        table(
            policy,
            "department-monthly",
            [shown("Alpha", "2026-01", "emails_sent", 9.0, 0.0, 30.0, uncertain=True)],
        ),
        table(policy, "team-quarterly", [shown("Team 01", "2026-Q1", "meeting_minutes", 5.0, 4.0, 6.0)]),
    ]
    found = {s.question.key: (s.answers, s.unreadable) for s in question_sections(policy, noisy)}
    # Teams are never compared, and the one department figure is too uncertain.
    assert found == {"meeting-load": ((), ("Meeting hours",)), "email-chat": ((), ("Emails sent",))}
    html = render_report(build_context(policy, noisy))
    assert 'id="q-email-chat"' not in html and "Nothing worth reading at this budget yet (emails sent" in html


def test_a_catalogue_without_an_organisation_report_compares_without_claiming_differences(
    policy: Policy,
    tables: list[ReleasedTable],
) -> None:
    without = [t for t in tables if t.report_id != "organisation-monthly"]
    html = render_report(build_context(policy, without))
    assert (
        html.count("No organisation-wide figure of these metrics was released, so there is no headline") == 2
    )
    assert "No organisation-wide figure of emails sent" not in html  # said once per question, not per metric
    assert 'class="flag"' not in html and "differs from the organisation" not in html
