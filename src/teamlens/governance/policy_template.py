"""Start a new policy from ``policy_template()``: the demo organisation's policy, every field explained."""

from __future__ import annotations

_TEMPLATE = """\
# teamlens processing policy.
#
# Nothing is collected or released until this exact text has been approved by the employer
# AND by the workers' representatives. Any change, even to a comment, makes a new text that
# needs both approvals again. Fields not listed here are refused, never ignored.

[policy]
id = "collaboration-2026h1"          # lower-case letters, digits, ".", "_", "-"
version = 1                          # every change is a new version
title = "Team workload and meeting load, first half of 2026"
# One of: team_workload_and_meeting_load, after_hours_load_for_right_to_disconnect,
# collaboration_across_teams, tool_adoption. Evaluating individuals is not a purpose (R7).
purpose = "team_workload_and_meeting_load"
# legitimate_interests, collective_agreement, legal_obligation or consent. Consent is rarely
# valid at work (R28): it needs consent_justification and is flagged to both parties.
lawful_basis = "legitimate_interests"
controller = "Example Ltd, 1 Example Street, London; DPO: dpo@example.org"
# The privacy budget below covers this whole period. Both dates are Mondays; the end is
# exclusive: 26 ISO weeks, 29 December 2025 to 28 June 2026 (ISO 2026 weeks 1-26, so the
# months and quarters below are whole).
period_start = 2025-12-29
period_end = 2026-06-29
review_date = 2027-07-05             # both parties review the policy by this date (R6)
retention_days = 400                 # per-person counts are deleted after this many days
# Connectors allowed to read exports, by name; an export from any other connector is refused.
sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv"]
# Groups come from the HR directory: organisation, division, department, team, location.
grouping_levels = ["organisation", "division", "department", "team"]
min_group_size = 10                  # groups smaller than this are shown as "fewer than 10"; never below 5
recipients = ["analyst", "representative", "worker"]
not_for_individual_decisions = true  # must be true: no figure may be used about a person
notes = "Demo organisation of about 2,000 people."
# Where the policy runs: uk, eu, de, fr or nl (uk when left out). It decides who must approve,
# which documents are generated and the legal references they cite (docs/jurisdictions.md).
jurisdiction = "uk"
# The representatives who sign with the representative key: trade_union, employee_forum,
# works_council, central_works_council, cse or central_cse (de and nl: a works council; fr: the CSE).
representative_body = "trade_union"

[privacy]
unit = "person-period"               # the privacy unit: one person over the whole period
rho = "1.5"                          # zCDP budget per person for the period (about epsilon 10)
delta = 1e-6                         # only used to show the budget as (epsilon, delta)
# How the budget is spent (all optional). Each person's weekly values are clipped together over
# each month (clipping_block), so a week's figures are released once its month has ended.
# Group sizes are measured once per headcount_span ("auto": the shortest span that keeps
# suppression right), with headcount_share of the budget. bounds_share lets
# `teamlens policy suggest-bounds` measure how busy people are and suggest the bounds below.
clipping_block = "month"
headcount_span = "auto"
headcount_share = "0.1"
bounds_share = "0.05"

# Each metric the policy allows, with the most one person can add per ISO week. Larger
# values are clipped to this bound; counts are whole numbers, time is in hours. The noise
# grows with the bound, so bounds sit near the 90th-95th percentile of a normal week: the
# mean loses a little from the busiest weeks and gains much narrower intervals.
[[metrics]]
name = "emails_sent"
per_week = 100

[[metrics]]
name = "emails_received"
per_week = 300

[[metrics]]
name = "chat_messages"
per_week = 200

[[metrics]]
name = "meetings_attended"
per_week = 25

[[metrics]]
name = "meeting_minutes"
per_week = 20                        # hours per week (stored as 1,200 minutes)

# The closed report catalogue: nothing else can be released. The shares of the budget, with
# bounds_share above, must add up to at most 1. Every report is derived from the same weekly
# measurements, so a share weighs its level and metrics rather than buying separate numbers.
[[reports]]
id = "department-monthly"
title = "Departments, month by month"
level = "department"
cadence = "month"                    # week, month or quarter (whole ISO weeks)
metrics = ["emails_sent", "emails_received", "chat_messages", "meetings_attended", "meeting_minutes"]
budget_share = "0.65"

[[reports]]
id = "team-quarterly"
title = "Teams, quarter by quarter"
level = "team"
cadence = "quarter"
metrics = ["emails_sent", "emails_received", "chat_messages", "meetings_attended", "meeting_minutes"]
budget_share = "0.3"

# Messages to or from these are never counted (union and representatives' mail, R18).
[exclusions]
addresses = ["reps@example.org"]
domains = ["union.example.org"]

# Used for after-hours metrics.
[working_hours]
start = "09:00"
end = "17:30"
days = ["mon", "tue", "wed", "thu", "fri"]
timezone = "Europe/London"
"""


def policy_template() -> str:
    """Return a complete, commented policy that parses; edit it, then `teamlens policy propose`."""
    return _TEMPLATE
