"""A network report in the policy: its bound is its metric's ``per_week``, and its rules name the field.

A network report releases exactly one network metric, between groups at or above the comparison
floor (never teams, never the organisation alone), per whole clipping block; a metrics report
never releases a network metric (those are weights between people, not means per group).
"""

from __future__ import annotations

import pytest

from teamlens.domain import GroupLevel, ReportKind
from teamlens.errors import PolicyFieldError
from teamlens.governance import parse_policy

from .helpers import edit

_BOUND = '[[metrics]]\nname = "network_messages"\nper_week = 40\n\n'


def _with_network(template: str, report: str) -> str:
    text = edit(template, "# The closed report catalogue", _BOUND + "# The closed report catalogue")
    text = edit(text, 'budget_share = "0.4"', 'budget_share = "0.3"')
    return edit(text, "# Messages to or from these", report + "\n# Messages to or from these")


def _report(**fields: str) -> str:
    values = {
        "id": '"network"',
        "title": '"Who mails whom"',
        "kind": '"network"',
        "level": '"department"',
        "cadence": '"quarter"',
        "metrics": '["network_messages"]',
        "budget_share": '"0.1"',
        **fields,
    }
    return "[[reports]]\n" + "".join(f"{key} = {value}\n" for key, value in values.items() if value)


def test_a_network_report_parses_with_its_bound(template: str) -> None:
    policy = parse_policy(_with_network(template, _report()), "p.toml").policy
    network = policy.report("network")
    assert network.kind is ReportKind.NETWORK and network.level is GroupLevel.DEPARTMENT
    assert policy.metric_bound("network_messages").per_week == 40  # B per week
    assert {report.kind for report in policy.reports if report.report_id != "network"} == {ReportKind.METRICS}


@pytest.mark.parametrize(
    ("fields", "field", "problem"),
    [
        ({"kind": '"graph"'}, "kind", "unknown report kind 'graph'"),
        ({"metrics": '["network_messages", "emails_sent"]'}, "metrics", "exactly one network metric"),
        ({"metrics": '["emails_sent"]'}, "metrics", "exactly one network metric"),
        ({"level": '"team"'}, "level", "not per team"),
        ({"level": '"organisation"'}, "level", "not per organisation"),
        ({"cadence": '"week"'}, "cadence", "per whole clipping block (month), not per week"),
        ({"kind": ""}, "metrics", "released only by a network report"),
    ],
)
def test_each_network_rule_names_the_field(
    template: str, fields: dict[str, str], field: str, problem: str
) -> None:
    text = _with_network(template, _report(**fields))
    with pytest.raises(PolicyFieldError) as raised:
        parse_policy(text, "p.toml")
    assert raised.value.field.endswith(field) and problem in str(raised.value)
