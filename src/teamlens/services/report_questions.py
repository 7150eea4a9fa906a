"""The questions the report answers, and each question's answer from the released tables.

A reader comes to the report with questions ("how heavy is meeting load?", "do people
disconnect?"), in the order of ``QUESTIONS``; each metric answers one of them
(``QUESTION_OF_METRIC``, the one place this grouping is kept). Per question and metric the
report shows:

- **a headline**: the organisation's figure in the latest window with its 95% interval, and its
  trend (a line with its band) with the change since the first window when that change is
  distinguishable from noise;
- **comparisons**: per coarser level (division, department, location) each group's figure in
  the latest window as a dot with its interval, in alphabetical order (never ranked), and a
  group is said to differ from the organisation only when the 95% interval of the difference
  excludes 0.

Everything here is post-processing of released cells: a difference's interval comes from the
two released means and their variances (``difference``). Treating the two as independent
overstates the variance when they are positively correlated (a group is part of the
organisation; two windows share a headcount), so the interval errs on the wide side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from teamlens.domain import METRICS, GroupLevel, Policy, ReleasedCell, ReleasedTable
from teamlens.services.report_cells import CellText, cell_text, column, number, table_decimals
from teamlens.services.report_charts import Chart, ComparisonChart, comparison_chart, trend_chart

#: Two-sided 95% normal quantile, for the difference of two released means.
Z95 = 1.959963984540054
#: Levels whose groups are compared with the organisation (teams are too small: tables only).
COMPARED_LEVELS = (GroupLevel.DIVISION, GroupLevel.DEPARTMENT, GroupLevel.LOCATION)
#: Width of the headline's trend chart, in pixels.
HEADLINE_WIDTH, HEADLINE_HEIGHT = 520, 170


@dataclass(frozen=True)
class Question:
    """A question a reader asks: its ``key`` (page anchor), ``text`` and what answers it in ``about``."""

    key: str
    text: str
    about: str


QUESTIONS: tuple[Question, ...] = (
    Question("meeting-load", "How heavy is meeting load?", "time and number of meetings and calls"),
    Question("focus", "Is there time to focus?", "stretches of working hours without meetings"),
    Question("disconnect", "Do people disconnect?", "work outside each person's working hours"),
    Question("email-chat", "How much time goes to email and chat?", "messages sent, received and read"),
    Question("manager-time", "Do teams get manager time?", "one-to-one time with one's manager"),
    Question("collaboration", "Who collaborates with whom?", "collaboration time, reach and sharing"),
    Question("adoption", "Which tools are used?", "use of the organisation's tools"),
)

#: Which question each metric answers. The one place this is kept: when metrics carry their own
#: ``question`` attribute, ``question_of`` reads that instead.
QUESTION_OF_METRIC: dict[str, str] = {
    **dict.fromkeys(
        (
            "meeting_minutes",
            "meetings_attended",
            "large_meetings",
            "long_meetings",
            "recurring_meetings",
            "meetings_created",
            "meetings_interacted",
            "meetings_organized",
            "adhoc_meetings_organized",
            "adhoc_meetings_attended",
            "one_time_meetings_organized",
            "one_time_meetings_attended",
            "recurring_meetings_organized",
            "video_minutes",
            "screen_share_minutes",
            "calls",
        ),
        "meeting-load",
    ),
    "focus_blocks": "focus",
    **dict.fromkeys(("after_hours_minutes", "after_hours_emails"), "disconnect"),
    **dict.fromkeys(
        (
            "email_minutes",
            "chat_minutes",
            "emails_sent",
            "emails_received",
            "emails_read",
            "email_recipients",
            "chat_messages",
            "thread_replies",
            "reactions_given",
            "channels_active",
        ),
        "email-chat",
    ),
    **dict.fromkeys(
        ("collaboration_minutes", "network_size", "files_shared_internally", "files_shared_externally"),
        "collaboration",
    ),
    **dict.fromkeys(("apps_active", "files_edited"), "adoption"),
}

_BY_KEY = {question.key: question for question in QUESTIONS}


def question_of(metric: str) -> Question:
    """The question ``metric`` answers: the catalogue's ``question`` (else "which tools are used")."""
    definition = METRICS.get(metric)
    if definition is not None and definition.question.key in _BY_KEY:
        return _BY_KEY[definition.question.key]
    return _BY_KEY[QUESTION_OF_METRIC.get(metric, "adoption")]


@dataclass(frozen=True)
class Difference:
    """A difference of two released means (in display units) with its 95% interval."""

    value: float
    lower: float
    upper: float

    @property
    def distinguishable(self) -> bool:
        """True when the interval excludes 0: the difference is not noise."""
        return self.lower > 0 or self.upper < 0


def mean_sd(cell: ReleasedCell) -> float | None:
    """The standard deviation of a released mean, from its total and person-weeks and their SDs.

    The delta method on total / person-weeks; without those, the half-width of its interval
    over 1.96. None for a cell that shows no number.
    """
    if cell.value is None or cell.lower is None or cell.upper is None:
        return None
    total, weeks, sd_total, sd_weeks = cell.total, cell.person_weeks, cell.sd_total, cell.sd_person_weeks
    if total is not None and weeks and weeks > 0 and sd_total is not None and sd_weeks is not None:
        return math.hypot(sd_total / weeks, total * sd_weeks / weeks**2)
    return (cell.upper - cell.lower) / (2 * Z95)


def difference(first: ReleasedCell | None, second: ReleasedCell | None) -> Difference | None:
    """``first`` − ``second`` with its 95% interval; None unless both show an unclamped number."""
    if first is None or second is None or first.value is None or second.value is None:
        return None
    if first.uncertain or second.uncertain or first.clamped or second.clamped:
        return None  # a clamped value is an edge, not an estimate; an uncertain one is mostly noise
    sd_first, sd_second = mean_sd(first), mean_sd(second)
    if sd_first is None or sd_second is None:
        return None
    value = first.value - second.value
    half = Z95 * math.hypot(sd_first, sd_second)
    return Difference(value, value - half, value + half)


@dataclass(frozen=True)
class Headline:
    """The organisation's figure: ``latest`` in window ``window``, its ``trend``, and ``change`` in words."""

    group: str
    window: str
    latest: CellText
    trend: Chart | None
    change: str


@dataclass(frozen=True)
class Compared:
    """One group in a comparison, with its figure and, when distinguishable, how it differs."""

    group: str
    text: CellText
    differs: str  # "above the organisation", "below the organisation" or ""


@dataclass(frozen=True)
class Comparison:
    """One level's groups in the latest window; ``hidden`` counts those with no figure worth reading."""

    report_id: str
    level: str
    levels: str
    window: str
    chart: ComparisonChart | None
    rows: tuple[Compared, ...]
    hidden: int
    against_organisation: bool

    @property
    def differing(self) -> int:
        """How many groups differ distinguishably from the organisation."""
        return sum(1 for row in self.rows if row.differs)


@dataclass(frozen=True)
class Answer:
    """What the report shows for one metric of a question."""

    metric: str
    label: str
    unit: str
    cadence: str
    headline: Headline | None
    comparisons: tuple[Comparison, ...]


@dataclass(frozen=True)
class QuestionSection:
    """A question and its answers, in the catalogue's order of metrics.

    ``unreadable`` names the released metrics of the question with no figure worth reading at
    this budget (neither a headline nor a group to compare): they get no chart, only a mention.
    """

    question: Question
    answers: tuple[Answer, ...]
    unreadable: tuple[str, ...] = ()

    @property
    def headlined(self) -> bool:
        """True when some answer has the organisation's headline."""
        return any(answer.headline is not None for answer in self.answers)


def _label(key: str) -> str:
    return column(key).label


def _short(key: str) -> str:
    return column(key).short


def unit_of(metric: str) -> str:
    """What a metric's figures count: "hours per person per week"."""
    return f"{METRICS[metric].display_unit} per person per week"


def _headline(table: ReleasedTable, metric: str) -> tuple[Headline | None, dict[str, ReleasedCell]]:
    cells = [cell for cell in table.cells if cell.metric == metric]
    groups = sorted({cell.group for cell in cells})
    if len(groups) != 1:
        return None, {}
    by_window = {cell.window: cell for cell in cells}
    decimals = table_decimals(cells)
    texts = [cell_text(by_window.get(key), table.min_group_size, decimals) for key in table.windows]
    readable = [index for index, text in enumerate(texts) if text.worth_reading]
    if not readable:
        return None, by_window
    last = readable[-1]
    trend = trend_chart(
        [_short(key) for key in table.windows],
        [(groups[0], texts)],
        unit_of(metric),
        width=HEADLINE_WIDTH,
        height=HEADLINE_HEIGHT,
    )
    first_key, last_key = table.windows[readable[0]], table.windows[last]
    change = _change(by_window.get(first_key), by_window[last_key], first_key, metric, decimals)
    return Headline(groups[0], _label(last_key), texts[last], trend, change), by_window


def _change(
    first: ReleasedCell | None, last: ReleasedCell, first_key: str, metric: str, decimals: int
) -> str:
    if first is None or first is last:
        return ""
    moved = difference(last, first)
    since = f"since {_label(first_key)}"
    if moved is None:
        return f"No change {since} can be told from the noise (a figure is at an edge or too uncertain)."
    if not moved.distinguishable:
        return f"No change {since} can be told from the noise."
    word = "Up" if moved.value > 0 else "Down"
    ends = sorted((abs(moved.lower), abs(moved.upper)))
    size, low, high = abs(moved.value), ends[0], ends[1]
    what = METRICS[metric].display_unit
    return (
        f"{word} {number(size, decimals)} {what} per person per week {since} "
        f"(95% interval of the change: {number(low, decimals)} to {number(high, decimals)})."
    )


def _comparison(
    table: ReleasedTable, level: GroupLevel, metric: str, organisation: dict[str, ReleasedCell]
) -> Comparison | None:
    cells = [cell for cell in table.cells if cell.metric == metric]
    if not cells or not table.windows:
        return None
    window = table.windows[-1]
    decimals = table_decimals(cells)
    latest = {cell.group: cell for cell in cells if cell.window == window}
    groups = sorted({cell.group for cell in cells})
    reference = organisation.get(window)
    rows, hidden = [], 0
    for group in groups:
        text = cell_text(latest.get(group), table.min_group_size, decimals)
        if not text.worth_reading:
            hidden += 1
            continue
        moved = difference(latest.get(group), reference)
        differs = ""
        if moved is not None and moved.distinguishable:
            differs = "above the organisation" if moved.value > 0 else "below the organisation"
        rows.append(Compared(group, text, differs))
    reference_text = cell_text(reference, table.min_group_size, decimals) if reference else None
    chart = comparison_chart(
        [(row.group, row.text, bool(row.differs)) for row in rows],
        reference_text if reference_text is not None and reference_text.worth_reading else None,
    )
    return Comparison(
        report_id=table.report_id,
        level=level.value,
        levels=f"{level.value}s",
        window=_label(window),
        chart=chart,
        rows=tuple(rows),
        hidden=hidden,
        against_organisation=reference_text is not None and reference_text.worth_reading,
    )


def question_sections(policy: Policy, tables: Sequence[ReleasedTable]) -> tuple[QuestionSection, ...]:
    """Per question (in ``QUESTIONS`` order) what the released tables answer; none for a question
    whose metrics were not released at all."""
    levels = {table.report_id: policy.report(table.report_id).level for table in tables}
    cadence = {table.report_id: policy.report(table.report_id).cadence.value for table in tables}
    organisation = [table for table in tables if levels[table.report_id] is GroupLevel.ORGANISATION]
    names: list[str] = []
    for report in policy.reports:
        for name in report.metrics:
            if name not in names and any(name in table.metrics for table in tables):
                names.append(name)
    sections = []
    for question in QUESTIONS:
        answers, unreadable = [], []
        for name in (name for name in names if question_of(name) is question):
            headline: Headline | None = None
            by_window: dict[str, ReleasedCell] = {}
            headline_cadence = ""
            for table in organisation:
                if name in table.metrics:
                    headline, by_window = _headline(table, name)
                    headline_cadence = cadence[table.report_id]
                    break
            comparisons = []
            for level in COMPARED_LEVELS:
                for table in tables:
                    if levels[table.report_id] is level and name in table.metrics:
                        found = _comparison(table, level, name, by_window)
                        if found is not None and found.rows:
                            comparisons.append(found)
                        break
            label = METRICS[name].label
            if headline is not None or comparisons:
                answers.append(
                    Answer(name, label, unit_of(name), headline_cadence, headline, tuple(comparisons))
                )
            else:
                unreadable.append(label)
        if answers or unreadable:
            sections.append(QuestionSection(question, tuple(answers), tuple(unreadable)))
    return tuple(sections)
