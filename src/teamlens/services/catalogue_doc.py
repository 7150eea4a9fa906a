"""``docs/catalogue.md``: the metric catalogue as people read it, generated from its own definitions.

A test keeps the file equal to ``catalogue_markdown()``; ``tests/unit/domain/test_catalogue_doc.py``
says how to regenerate it.
"""

from __future__ import annotations

from teamlens.domain import metric_catalogue as cat
from teamlens.domain.metrics import ACTIVITY_NOT_PRODUCTIVITY, MetricDef, Question, Unit, metrics_for

_INTRO = f"""# The metric catalogue

Generated from `src/teamlens/domain/metric_catalogue.py` by `teamlens.services.catalogue_doc`; do
not edit by hand (a test compares the two).

Every metric is one person's value per week, released only as a differentially private mean per
team, department or organisation (never one person's value, never a minimum, maximum or raw
percentile). Each is bounded: a person contributes at most the weekly bound below (a policy may
set a lower one), so that no one person moves a released figure by more than the noise hides.
Shares are means of per-person values between 0 and 1 (stored in thousandths): "the share of
people over 20 meeting hours" is the mean, over person-weeks, of 1 for a week over 20 hours and 0
otherwise. Every metric measures **{ACTIVITY_NOT_PRODUCTIVITY}**; the last column says what else
it leaves out.

The two network metrics (`network_messages`, `network_meeting_minutes`) are the exception to the
means: a policy releases each only in a report of its own with `kind = "network"`, as weekly
totals between every pair of a level's groups (division, department or location), with each
person's sending and receiving bounded together in L1 by the weekly bound (sensitivity 3B), and
only between groups at the comparison floor, never ranked.

Metrics computed from raw events (calendars, mailboxes, chat) use each person's own time zone and
working hours (the directory's `Time Zone`, `Working Hours Start` and `Working Hours End`, or else
the policy's `working_hours`). Those that combine sources (focus hours, after-hours
collaboration, workweek span, messages sent during meetings, adoption, 1:1 time with one's
manager) are computed from the inputs of one `teamlens ingest`: give a period's calendars, mail,
chat and the directory together. Times assumed per item: {cat.EMAIL_SENT_MINUTES:g} minutes per
email sent, {cat.EMAIL_RECEIVED_MINUTES:g} per email received, {cat.CHAT_POSTED_MINUTES:g} per chat
message posted.
"""


def catalogue_markdown() -> str:
    """The whole of ``docs/catalogue.md``."""
    parts = [_INTRO]
    for question in Question:
        parts.append(f"\n## {question.value.capitalize()}\n")
        parts.append("\n| metric (id) | definition | sources | weekly bound | does not measure |")
        parts.append("\n|---|---|---|---|---|")
        for definition in metrics_for(question):
            parts.append("\n" + _row(definition))
        parts.append("\n")
    return "".join(parts)


def _row(definition: MetricDef) -> str:
    cells = [
        f"{definition.label} (`{definition.name}`)",
        definition.formula,
        "; ".join(definition.sources),
        _bound(definition),
        definition.not_measured or "—",
    ]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _bound(definition: MetricDef) -> str:
    value = definition.weekly_bound / definition.display_divisor
    if definition.unit is Unit.MINUTES:
        return f"{value:g} hours"
    if definition.unit is Unit.SHARE:
        return f"{value:g} (a share)"
    return f"{value:g}"
