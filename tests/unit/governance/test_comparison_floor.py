"""R19 in the product's own validator: after-hours and similar metrics are never released per team
or for groups under the comparison floor; the parser refuses such a report and names its field.

The teeth: each refused policy is one the A24 catalogue linter (tests/attacks) also flags, and the
same metric at department level with k = 10 parses, so the refusal is the rule's, not the metric's.
"""

from __future__ import annotations

import pytest

from teamlens.domain import COMPARISON_FLOOR, is_sensitive
from teamlens.errors import PolicyFieldError
from teamlens.governance import parse_policy

from ...attacks.catalogue_linter import lint_policy_text
from .helpers import edit

METRIC = 'name = "meeting_minutes"\n'
TEAM_METRICS = (
    'level = "team"\ncadence = "quarter"\n'
    'metrics = ["emails_sent", "emails_received", "chat_messages", "meetings_attended", "meeting_minutes"]'
)
DEPARTMENT_METRICS = (
    'level = "department"\ncadence = "month"                    # week, month or quarter (whole ISO weeks)\n'
    'metrics = ["emails_sent", "emails_received", "chat_messages", "meetings_attended", "meeting_minutes"]'
)


def with_after_hours(template: str, *, team: bool, k: int = 10) -> str:
    """The template with after_hours_minutes allowed and released in the team or department report."""
    allowed = '[[metrics]]\nname = "after_hours_minutes"\nper_week = 10\n\n[[metrics]]\n'
    text = edit(template, "[[metrics]]\n" + METRIC, allowed + METRIC)
    target = TEAM_METRICS if team else DEPARTMENT_METRICS
    released = target.replace('"meeting_minutes"]', '"meeting_minutes", "after_hours_minutes"]')
    text = edit(text, target, released)
    return edit(text, "min_group_size = 10 ", f"min_group_size = {k} ")


def test_after_hours_per_team_is_refused_naming_the_report_field(template: str) -> None:
    text = with_after_hours(template, team=True)
    with pytest.raises(PolicyFieldError) as caught:
        parse_policy(text, "p.toml")
    assert caught.value.field == "reports[2].metrics"
    assert "'after_hours_minutes'" in caught.value.problem and "R19" in caught.value.problem
    assert "department" in caught.value.hint
    assert any("after-hours" in problem for problem in lint_policy_text(text))


def test_after_hours_under_the_comparison_floor_is_refused(template: str) -> None:
    text = with_after_hours(template, team=False, k=COMPARISON_FLOOR - 3)
    with pytest.raises(PolicyFieldError) as caught:
        parse_policy(text, "p.toml")
    assert caught.value.field == "reports[1].metrics"
    assert f"comparison floor of {COMPARISON_FLOOR}" in caught.value.problem


def test_after_hours_at_department_level_with_k_at_the_floor_parses(template: str) -> None:
    policy = parse_policy(with_after_hours(template, team=False), "p.toml").policy
    assert "after_hours_minutes" in policy.report("department-monthly").metrics


def test_what_counts_as_sensitive() -> None:
    assert is_sensitive("after_hours_emails") and is_sensitive("after_hours_minutes")
    assert is_sensitive("weekend_minutes")
    assert not is_sensitive("emails_sent") and not is_sensitive("meeting_minutes")
