"""The policy TOML reader: the template parses, and every rule names the field it refuses."""

from __future__ import annotations

import datetime as dt
import hashlib
from fractions import Fraction

import pytest

from teamlens.domain import Cadence, GroupLevel, LawfulBasis, Purpose
from teamlens.errors import PolicyError, PolicyFieldError
from teamlens.governance import parse_policy, policy_sha256

from .helpers import edit

MISALIGNED = (
    ("period_start = 2025-12-29", "period_start = 2026-01-05"),
    ("period_end = 2026-06-29", "period_end = 2026-07-06"),
)


def misaligned(text: str) -> str:
    """The template with its period moved off the quarter boundaries (Q1 starts 2025-12-29)."""
    for old, new in MISALIGNED:
        text = edit(text, old, new)
    return text


def test_template_parses_into_the_demo_policy(template: str) -> None:
    parsed = parse_policy(template, "template.toml")
    policy = parsed.policy
    assert policy.policy_id == "collaboration-2026h1"
    assert policy.purpose is Purpose.TEAM_WORKLOAD
    assert policy.lawful_basis is LawfulBasis.LEGITIMATE_INTERESTS
    assert (policy.period_end - policy.period_start).days == 26 * 7
    assert {bound.name: bound.per_week for bound in policy.metrics} == {
        "emails_sent": 400,
        "emails_received": 1500,
        "chat_messages": 1500,
        "meetings_attended": 40,
        "meeting_minutes": 40 * 60,  # 40 hours stored as minutes
    }
    assert policy.grouping_levels == (
        GroupLevel.ORGANISATION,
        GroupLevel.DIVISION,
        GroupLevel.DEPARTMENT,
        GroupLevel.TEAM,
    )
    assert policy.min_group_size == 10
    assert policy.rho.value == Fraction(2)
    assert policy.delta == 1e-6
    assert [(r.report_id, r.level, r.cadence, r.budget_share) for r in policy.reports] == [
        ("department-monthly", GroupLevel.DEPARTMENT, Cadence.MONTH, Fraction(3, 5)),
        ("team-quarterly", GroupLevel.TEAM, Cadence.QUARTER, Fraction(2, 5)),
    ]
    assert all(len(report.metrics) == 5 for report in policy.reports)
    assert policy.exclusions.domains == ("union.example.org",)
    assert policy.working_hours.days == (0, 1, 2, 3, 4)
    assert parsed.sha256 == hashlib.sha256(template.encode()).hexdigest()


def test_template_period_not_on_month_boundaries_is_flagged(template: str) -> None:
    # 2026-01-05 is inside ISO month 2026-01 (which starts 2025-12-29), so January and Q1 are lost.
    warnings = parse_policy(misaligned(template), "t.toml").warnings
    assert len(warnings) == 2
    assert "'department-monthly' covers 21 of the period's 26 weeks" in warnings[0]
    assert "'team-quarterly' covers 13 of the period's 26 weeks" in warnings[1]
    assert parse_policy(template, "t.toml").warnings == ()


def test_sha256_covers_every_byte(template: str) -> None:
    assert policy_sha256(template) != policy_sha256(template + " ")
    assert policy_sha256(template) == hashlib.sha256(template.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ("[policy]\n", "colour = 'blue'\n[policy]\n", "colour", "unknown field"),
        ("[privacy]\n", "[extras]\nx = 1\n[privacy]\n", "extras", "unknown field"),
        ("[policy]\n", "[policy]\ncolour = 'blue'\n", "policy.colour", "unknown field"),
        ("unit = ", "epsilon = 3\nunit = ", "privacy.epsilon", "unknown field"),
        (
            'per_week = 1500\n\n[[metrics]]\nname = "chat',
            'per_week = 1500\nmax = 2\n\n[[metrics]]\nname = "chat',
            "metrics[2].max",
            "unknown field",
        ),
        (
            'budget_share = "0.4"',
            'budget_share = "0.4"\nfilter = "team=a"',
            "reports[2].filter",
            "unknown field",
        ),
        (
            'timezone = "Europe/London"',
            'timezone = "Europe/London"\nlunch = "12:00"',
            "working_hours.lunch",
            "unknown field",
        ),
        ("review_date = 2027-07-05", "", "policy.review_date", "missing"),
        ('rho = "2.0"', "", "privacy.rho", "missing"),
        (
            "version = 1 ",
            'version = "one" ',
            "policy.version",
            "expected a whole number ≥ 1 (got a string 'one')",
        ),
        ("version = 1 ", "version = true ", "policy.version", "expected a whole number"),
        ("version = 1 ", "version = 0 ", "policy.version", "expected a whole number ≥ 1"),
        ('id = "collaboration-2026h1"', 'id = "Collab 2026"', "policy.id", "lower-case letters"),
        (
            'purpose = "team_workload_and_meeting_load"',
            'purpose = "marketing"',
            "policy.purpose",
            "unknown purpose 'marketing'",
        ),
        (
            'lawful_basis = "legitimate_interests"',
            'lawful_basis = "vibes"',
            "policy.lawful_basis",
            "unknown lawful basis",
        ),
        (
            'lawful_basis = "legitimate_interests"',
            'lawful_basis = "consent"',
            "policy.consent_justification",
            "required when lawful_basis is 'consent'",
        ),
        (
            "min_group_size = 10 ",
            "min_group_size = 4 ",
            "policy.min_group_size",
            "must be at least 5 (got 4)",
        ),
        (
            "period_start = 2025-12-29",
            "period_start = 2025-12-30",
            "policy.period_start",
            "must be a Monday (got 2025-12-30, a Tuesday)",
        ),
        ("period_end = 2026-06-29", "period_end = 2026-06-28", "policy.period_end", "must be a Monday"),
        (
            "period_end = 2026-06-29",
            "period_end = 2025-12-29",
            "policy.period_end",
            "must be after period_start",
        ),
        (
            "period_start = 2025-12-29",
            "period_start = 2025-12-29T09:00:00",
            "policy.period_start",
            "expected a date such as 2026-01-05 (got a date-time",
        ),
        (
            "review_date = 2027-07-05",
            "review_date = 2025-07-05",
            "policy.review_date",
            "must be after period_start",
        ),
        ("retention_days = 35", "retention_days = 0", "policy.retention_days", "expected a whole number ≥ 1"),
        (
            "not_for_individual_decisions = true",
            "not_for_individual_decisions = false",
            "policy.not_for_individual_decisions",
            "must be true",
        ),
        (
            '"organisation", "division"',
            '"organisation", "region"',
            "policy.grouping_levels",
            "unknown level 'region'",
        ),
        (
            'recipients = ["analyst", "representative", "worker"]',
            'recipients = ["analyst"]',
            "policy.recipients",
            "must include 'representative'",
        ),
        (
            'recipients = ["analyst", "representative", "worker"]',
            'recipients = ["representative", "ceo"]',
            "policy.recipients",
            "unknown role 'ceo'",
        ),
        (
            'sources = ["m365_email_activity", ',
            'sources = ["m365_email_activity", "m365_email_activity", ',
            "policy.sources",
            "lists 'm365_email_activity' more than once",
        ),
        ('unit = "person-period"', 'unit = "person-day"', "privacy.unit", "expected 'person-period'"),
        ('rho = "2.0"', 'rho = "two"', "privacy.rho", "expected an exact number"),
        ('rho = "2.0"', 'rho = "0"', "privacy.rho", "must be greater than 0"),
        ("delta = 1e-6", "delta = 1.5", "privacy.delta", "must be between 0 and 1"),
        ('name = "emails_sent"', 'name = "keystrokes"', "metrics[1].name", "unknown metric 'keystrokes'"),
        ('name = "emails_received"', 'name = "emails_sent"', "metrics[2].name", "listed twice"),
        ("per_week = 400", "per_week = 400.5", "metrics[1].per_week", "expected a whole number"),
        ("per_week = 400", "per_week = 0", "metrics[1].per_week", "expected a whole number ≥ 1"),
        (
            "per_week = 40                        # hours",
            "per_week = 200 #",
            "metrics[5].per_week",
            "expected hours per week in (0, 168]",
        ),
        (
            'level = "department"',
            'level = "location"',
            "reports[1].level",
            "'location' is not one of the policy's grouping_levels",
        ),
        ('cadence = "month"', 'cadence = "fortnight"', "reports[1].cadence", "unknown cadence"),
        (
            'budget_share = "0.4"',
            'budget_share = "0.5"',
            "reports[2].budget_share",
            "budget shares add up to 11/10 (1.1), more than 1",
        ),
        ('budget_share = "0.6"', "budget_share = 0", "reports[1].budget_share", "must be greater than 0"),
        ('id = "team-quarterly"', 'id = "department-monthly"', "reports[2].id", "used twice"),
        (
            '"meetings_attended", "meeting_minutes"]\nbudget_share = "0.6"',
            '"meetings_attended", "after_hours_minutes"]\nbudget_share = "0.6"',
            "reports[1].metrics",
            "'after_hours_minutes' is not one of the policy's [[metrics]]",
        ),
        (
            'addresses = ["reps@example.org"]',
            'addresses = ["reps.example.org"]',
            "exclusions.addresses",
            "not an e-mail address",
        ),
        ('domains = ["union.example.org"]', 'domains = ["localhost"]', "exclusions.domains", "not a domain"),
        ('start = "09:00"', 'start = "9am"', "working_hours.start", 'expected a time such as "09:00"'),
        ('end = "17:30"', 'end = "08:00"', "working_hours.end", "must be after start 09:00"),
        ('"thu", "fri"]', '"thu", "friday"]', "working_hours.days", "unknown day 'friday'"),
        (
            'timezone = "Europe/London"',
            'timezone = "Mars/Olympus"',
            "working_hours.timezone",
            "unknown time zone",
        ),
    ],
)
def test_each_rule_names_the_field(template: str, old: str, new: str, field: str, problem: str) -> None:
    with pytest.raises(PolicyFieldError) as caught:
        parse_policy(edit(template, old, new), "policy.toml")
    assert caught.value.field == field
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"policy.toml: policy field '{field}': ")


def test_unknown_field_hint_lists_the_allowed_fields(template: str) -> None:
    with pytest.raises(PolicyFieldError) as caught:
        parse_policy(edit(template, "[policy]\n", "[policy]\nk = 2\n"), "p.toml")
    assert "min_group_size" in caught.value.hint
    assert "review_date" in caught.value.hint


@pytest.mark.parametrize(
    "purpose",
    ["individual_performance_evaluation", "individual_behaviour_monitoring", "productivity_scoring"],
)
def test_individual_evaluation_is_not_a_purpose(template: str, purpose: str) -> None:
    text = edit(template, 'purpose = "team_workload_and_meeting_load"', f'purpose = "{purpose}"')
    with pytest.raises(PolicyFieldError) as caught:
        parse_policy(text, "p.toml")
    assert caught.value.field == "policy.purpose"
    assert "is not a permitted purpose" in caught.value.problem
    assert "no setting can add such a purpose (R7)" in caught.value.problem
    assert "team_workload_and_meeting_load" in caught.value.hint


def test_consent_needs_a_justification_and_is_flagged(template: str) -> None:
    text = edit(
        template,
        'lawful_basis = "legitimate_interests"',
        'lawful_basis = "consent"\nconsent_justification = "Opt-in pilot; no effect on anyone who declines."',
    )
    parsed = parse_policy(text, "p.toml")
    assert parsed.policy.lawful_basis is LawfulBasis.CONSENT
    assert parsed.policy.consent_justification.startswith("Opt-in pilot")
    assert len(parsed.warnings) == 1
    assert "consent" in parsed.warnings[0]
    assert "R28" in parsed.warnings[0]


def test_blank_consent_justification_is_refused(template: str) -> None:
    text = edit(
        template,
        'lawful_basis = "legitimate_interests"',
        'lawful_basis = "consent"\nconsent_justification = " "',
    )
    with pytest.raises(PolicyFieldError, match="consent_justification"):
        parse_policy(text, "p.toml")


def test_min_group_size_defaults_to_10_and_5_is_allowed_with_a_warning(template: str) -> None:
    without = edit(template, "min_group_size = 10 ", "# min_group_size = 10 ")
    assert parse_policy(without, "p.toml").policy.min_group_size == 10
    five = parse_policy(edit(template, "min_group_size = 10 ", "min_group_size = 5 "), "p.toml")
    assert five.policy.min_group_size == 5
    assert five.warnings == (
        "min_group_size is 5, below the default of 10: smaller groups are shown, with wider error bars.",
    )


@pytest.mark.parametrize(
    ("written", "exact"),
    [('"0.5"', Fraction(1, 2)), ("0.1", Fraction(1, 10)), ('"1/3"', Fraction(1, 3)), ("3", Fraction(3))],
)
def test_rho_is_read_exactly(template: str, written: str, exact: Fraction) -> None:
    parsed = parse_policy(edit(template, 'rho = "2.0"', f"rho = {written}"), "p.toml")
    assert parsed.policy.rho.value == exact


def test_budget_shares_are_summed_exactly(template: str) -> None:
    # As floats 0.1 + 0.2 + 0.7 is 0.9999999999999999 or 1.0000000000000002 depending on order;
    # read exactly, three shares of a third must total exactly 1 and be accepted.
    text = edit(template, 'budget_share = "0.6"', 'budget_share = "1/3"')
    text = edit(text, 'budget_share = "0.4"', 'budget_share = "2/3"')
    shares = [report.budget_share for report in parse_policy(text, "p.toml").policy.reports]
    assert sum(shares) == 1


def test_hours_are_converted_to_whole_minutes(template: str) -> None:
    text = edit(template, "per_week = 40                        # hours", "per_week = 37.5 #")
    assert parse_policy(text, "p.toml").policy.metric_bound("meeting_minutes").per_week == 2250


def test_report_cadence_must_fit_the_period(template: str) -> None:
    text = edit(template, "period_end = 2026-06-29", "period_end = 2026-03-02")
    with pytest.raises(PolicyFieldError) as caught:
        parse_policy(text, "p.toml")
    assert caught.value.field == "reports[2].cadence"
    assert "no whole quarter fits" in caught.value.problem


def test_at_least_one_report_and_metric_are_required(template: str) -> None:
    no_reports = template[: template.index("[[reports]]")] + template[template.index("[exclusions]") :]
    with pytest.raises(PolicyFieldError) as caught:
        parse_policy(no_reports, "p.toml")
    assert caught.value.field == "reports"
    assert "missing" in caught.value.problem


def test_optional_tables_take_their_defaults(template: str) -> None:
    text = template[: template.index("# Messages to or from these")]
    policy = parse_policy(text, "p.toml").policy
    assert policy.exclusions.addresses == ()
    assert policy.working_hours.timezone == "Europe/London"


def test_bad_toml_syntax_names_the_line(template: str) -> None:
    text = edit(template, "version = 1 ", "version = = 1 ")
    line = text.splitlines().index(next(line for line in text.splitlines() if "version = =" in line)) + 1
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "broken.toml")
    assert caught.value.message.startswith(f"broken.toml, line {line}, column ")
    assert "not valid TOML" in caught.value.message


def _replace_section(text: str, start: str, end: str | None, root_line: str) -> str:
    """The policy with the section from ``start`` up to ``end`` (or the end) replaced by a root key."""
    a = text.index(start)
    b = text.index(end) if end else len(text)
    return root_line + "\n" + text[:a] + text[b:]


WRONG_KINDS = [
    (
        lambda t: edit(t, 'title = "Team workload and meeting load, first half of 2026"', "title = 2026"),
        "policy.title",
        "expected a string (got a whole number 2026)",
    ),
    (
        lambda t: edit(
            t,
            'controller = "Example Ltd, 1 Example Street, London; DPO: dpo@example.org"',
            'controller = " "',
        ),
        "policy.controller",
        "must not be empty",
    ),
    (
        lambda t: edit(t, "version = 1 ", 'version = "the one we agreed on at the meeting in May" '),
        "policy.version",
        "expected a whole number ≥ 1 (got a string 'the one we agreed on at the meeting ...)",  # cut at 40
    ),
    (
        lambda t: edit(t, "delta = 1e-6", 'delta = "tiny"'),
        "privacy.delta",
        "expected a number (got a string 'tiny')",
    ),
    (lambda t: edit(t, 'rho = "2.0"', "rho = true"), "privacy.rho", "(got a boolean True)"),
    (
        lambda t: edit(t, "not_for_individual_decisions = true", 'not_for_individual_decisions = "yes"'),
        "policy.not_for_individual_decisions",
        "expected true or false (got a string 'yes')",
    ),
    (
        lambda t: edit(t, "review_date = 2027-07-05", 'review_date = "next July"'),
        "policy.review_date",
        "expected a date such as 2026-01-05 (got a string 'next July')",
    ),
    (
        lambda t: edit(
            t,
            'grouping_levels = ["organisation", "division", "department", "team"]',
            'grouping_levels = "team"',
        ),
        "policy.grouping_levels",
        "expected a list of strings with at least one entry (got a string 'team')",
    ),
    (
        lambda t: edit(
            t, 'sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv"]', "sources = []"
        ),
        "policy.sources",
        "expected a list of strings with at least one entry (got an empty list)",
    ),
    (
        lambda t: _replace_section(t, "[working_hours]", None, 'working_hours = "nine to five"'),
        "working_hours",
        "expected a [working_hours] table (got a string 'nine to five')",
    ),
    (
        lambda t: _replace_section(t, "[[reports]]", "# Messages to or from these", "reports = []"),
        "reports",
        "expected one or more [[reports]] tables (got a list)",
    ),
]


@pytest.mark.parametrize(("change", "field", "problem"), WRONG_KINDS)
def test_a_value_of_the_wrong_kind_names_the_field_what_was_expected_and_what_was_found(
    template: str, change: object, field: str, problem: str
) -> None:
    with pytest.raises(PolicyFieldError) as caught:
        parse_policy(change(template), "p.toml")  # type: ignore[operator]
    assert caught.value.field == field
    assert problem in caught.value.problem
    assert "p.toml" in str(caught.value)


def test_a_date_may_be_written_as_a_string(template: str) -> None:
    parsed = parse_policy(edit(template, "review_date = 2027-07-05", 'review_date = "2027-07-05"'), "p.toml")
    assert parsed.policy.review_date == dt.date(2027, 7, 5)
