"""Which changes widen a policy (both parties must approve) and which only narrow it (R2, R3):
``widenings(old, new)`` names every widening in words, and finds none in a version that only narrows."""

from __future__ import annotations

import pytest

from teamlens.domain import Policy
from teamlens.governance import parse_policy
from teamlens.governance.tightening import widenings

from .helpers import edit

REPORT_METRICS = (
    'metrics = ["emails_sent", "emails_received", "chat_messages", "meetings_attended", "meeting_minutes"]'
)


def parsed(text: str) -> Policy:
    return parse_policy(text, "p.toml").policy


def first_report_without_meeting_minutes(text: str) -> str:
    """The text with the first report's metrics one shorter (the second report keeps all five)."""
    fewer = REPORT_METRICS.replace(', "meeting_minutes"', "")
    return text.replace(REPORT_METRICS, fewer, 1)


@pytest.mark.parametrize(
    ("old", "new", "widening"),
    [
        (
            'id = "collaboration-2026h1"',
            'id = "after-hours-2026"',
            "it is another policy ('after-hours-2026', not",
        ),
        (
            "period_start = 2025-12-29",
            "period_start = 2026-01-05",
            "period_start moves from 2025-12-29 to 2026-01-05",
        ),
        (
            "period_end = 2026-06-29",
            "period_end = 2026-07-06",
            "period_end moves later, from 2026-06-29 to 2026-07-06",
        ),
        ("delta = 1e-6", "delta = 1e-5", "delta rises from 1e-06 to 1e-05"),
        ('controller = "Example Ltd', 'controller = "Example Holdings Ltd', "controller changes"),
        ('start = "09:00"', 'start = "08:00"', "working_hours changes"),
        ('level = "department"', 'level = "division"', "report 'department-monthly' changes level from"),
        ('cadence = "month" ', 'cadence = "week" ', "report 'department-monthly' changes cadence"),
        (
            'budget_share = "0.6"',
            'budget_share = "0.5"',
            "report 'team-quarterly' gets a larger budget_share",
        ),
    ],
)
def test_each_widening_is_named(template: str, old: str, new: str, widening: str) -> None:
    before, after = template, edit(template, old, new)
    if "budget_share" in old:  # a smaller first share makes room for a larger second one
        before = edit(template, 'budget_share = "0.4"', 'budget_share = "0.3"')
        after = edit(after, 'budget_share = "0.4"', 'budget_share = "0.5"')
    found = widenings(parsed(before), parsed(after))
    assert any(item.startswith(widening) for item in found), found


def test_a_metric_added_to_a_report_is_a_widening(template: str) -> None:
    found = widenings(parsed(first_report_without_meeting_minutes(template)), parsed(template))
    assert found == ["report 'department-monthly' adds metrics meeting_minutes"]


def test_a_version_that_only_narrows_has_no_widening_and_the_reverse_has_each(template: str) -> None:
    narrower = first_report_without_meeting_minutes(template)
    for old, new in (
        ("min_group_size = 10 ", "min_group_size = 12 "),
        ('rho = "2.0"', 'rho = "1.5"'),
        ("retention_days = 35 ", "retention_days = 30 "),
        ("review_date = 2027-07-05", "review_date = 2027-01-04"),
        ('title = "Team workload', 'title = "Team load'),  # free text may change either way
        ('domains = ["union.example.org"]', 'domains = ["union.example.org", "branch.example.org"]'),
    ):
        narrower = edit(narrower, old, new)
    assert widenings(parsed(template), parsed(narrower)) == []
    assert sorted(widenings(parsed(narrower), parsed(template))) == sorted(
        [
            "min_group_size falls from 12 to 10",
            "the budget rho rises from 3/2 to 2",
            "retention_days rises from 30 to 35",
            "review_date moves later, from 2027-01-04 to 2027-07-05",
            "exclusions.domains no longer lists branch.example.org",
            "report 'department-monthly' adds metrics meeting_minutes",
        ]
    )
