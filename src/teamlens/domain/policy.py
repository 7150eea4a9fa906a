"""The processing policy as the rest of teamlens sees it: a validated, immutable value.

The TOML file that representatives read and sign is parsed into these types by
``teamlens.governance.policy_file``; nothing else builds a ``Policy`` from user input.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from fractions import Fraction

from teamlens.domain.budget import Rho
from teamlens.domain.jurisdiction import (
    DEFAULT_JURISDICTION,
    Jurisdiction,
    Profile,
    RepresentativeBody,
    profile,
)
from teamlens.domain.metrics import METRICS, MetricDef
from teamlens.domain.windows import Cadence, Window, windows_between

MIN_GROUP_SIZE_FLOOR = 5
DEFAULT_MIN_GROUP_SIZE = 10
#: R19: after-hours and similar metrics are released only for groups of at least this many people
#: (the comparison floor of R12) and only at ``COMPARISON_LEVELS``, never per team.
COMPARISON_FLOOR = 10


class Purpose(enum.StrEnum):
    """The closed list of purposes. Individual performance evaluation is not one of them (R7)."""

    TEAM_WORKLOAD = "team_workload_and_meeting_load"
    RIGHT_TO_DISCONNECT = "after_hours_load_for_right_to_disconnect"
    COLLABORATION_PATTERNS = "collaboration_across_teams"
    TOOL_ADOPTION = "tool_adoption"


class LawfulBasis(enum.StrEnum):
    """GDPR Art 6 bases a policy may record; consent is accepted only with a warning (R28)."""

    LEGITIMATE_INTERESTS = "legitimate_interests"
    COLLECTIVE_AGREEMENT = "collective_agreement"
    LEGAL_OBLIGATION = "legal_obligation"
    CONSENT = "consent"


class GroupLevel(enum.StrEnum):
    """Grouping levels come from the HR directory: declared, never discovered."""

    ORGANISATION = "organisation"
    DIVISION = "division"
    DEPARTMENT = "department"
    TEAM = "team"
    LOCATION = "location"


#: The levels at or above the comparison floor (R19); a team is below it.
COMPARISON_LEVELS = frozenset({"organisation", "division", "department", "location"})
_SENSITIVE_WORDS = ("after_hours", "weekend", "out_of_hours", "evening")


def is_sensitive(name: str) -> bool:
    """Whether metric ``name`` tells about time outside work (R19: handled as sensitive).

    After-hours, weekend and evening metrics by name, and any metric the catalogue files under
    the right-to-disconnect question.
    """
    if any(word in name for word in _SENSITIVE_WORDS):
        return True
    question = getattr(METRICS.get(name), "question", None)
    return question is not None and str(question) == "disconnect"


@dataclass(frozen=True)
class MetricBound:
    """A metric the policy allows, with the most one person may contribute per ISO week.

    ``per_week`` is in the metric's stored integer unit (minutes for time metrics).
    """

    name: str
    per_week: int

    @property
    def definition(self) -> MetricDef:
        """The catalogue entry for this metric."""
        return METRICS[self.name]

    def bound_for(self, window: Window) -> int:
        """The clipping bound for one person in ``window`` (per-week bound × weeks)."""
        return self.per_week * window.n_weeks


class ReportKind(enum.StrEnum):
    """What a report releases: group means of its metrics, or the collaboration network between groups."""

    METRICS = "metrics"
    #: Weekly weights between every ordered pair of the level's groups (one ``NETWORK_METRICS``
    #: metric, whose ``per_week`` is the network's bound B), released only between groups at the
    #: comparison floor, never ranked.
    NETWORK = "network"


@dataclass(frozen=True)
class ReportDef:
    """One report of the approved catalogue: which metrics, at which level, how often."""

    report_id: str
    title: str
    level: GroupLevel
    cadence: Cadence
    metrics: tuple[str, ...]
    budget_share: Fraction
    kind: ReportKind = ReportKind.METRICS


class HeadcountSpan(enum.StrEnum):
    """How long one measured headcount serves: its noise is paid once per span (see ``ReleaseDesign``)."""

    AUTO = "auto"
    MONTH = "month"
    QUARTER = "quarter"
    PERIOD = "period"


@dataclass(frozen=True)
class ReleaseDesign:
    """How the release engine spends the budget: the ``[privacy]`` table's engine settings.

    ``clipping_block``: the weeks over which each person's weekly values of a metric are clipped
    together in L2 (a week, a month or a quarter of the period); a week's figures can be
    released once its block has ended. ``headcount_span``: how long one noisy headcount serves
    as the group's size ("auto" picks the shortest span whose noise keeps suppression right).
    ``headcount_share``: the part of the catalogue's budget spent on headcounts.
    ``bounds_share``: the part of the policy's ρ that ``teamlens policy suggest-bounds`` may
    spend on measuring the spread of each metric, so that bounds come from data (0: none).
    """

    clipping_block: Cadence = Cadence.MONTH
    headcount_span: HeadcountSpan = HeadcountSpan.AUTO
    headcount_share: Fraction = Fraction(1, 10)
    bounds_share: Fraction = Fraction(0)


@dataclass(frozen=True)
class WorkingHours:
    """The organisation's default working pattern, used for after-hours metrics."""

    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 30)
    days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    timezone: str = "Europe/London"


@dataclass(frozen=True)
class Exclusions:
    """Addresses and domains whose messages are never counted (union, representatives: R18)."""

    addresses: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    """An approved-or-proposed processing policy, fully validated."""

    policy_id: str
    version: int
    title: str
    purpose: Purpose
    lawful_basis: LawfulBasis
    controller: str
    period_start: dt.date
    period_end: dt.date
    review_date: dt.date
    retention_days: int
    sources: tuple[str, ...]
    metrics: tuple[MetricBound, ...]
    grouping_levels: tuple[GroupLevel, ...]
    min_group_size: int
    rho: Rho
    delta: float
    reports: tuple[ReportDef, ...]
    exclusions: Exclusions = field(default_factory=Exclusions)
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    design: ReleaseDesign = field(default_factory=ReleaseDesign)
    recipients: tuple[str, ...] = ("analyst", "representative")
    not_for_individual_decisions: bool = True
    consent_justification: str = ""
    notes: str = ""
    jurisdiction: Jurisdiction = DEFAULT_JURISDICTION
    representative_body: RepresentativeBody = RepresentativeBody.NOT_STATED
    #: R15: days the released aggregates and the ledger of the period are kept after it ends,
    #: and what then happens to them ("archive": written to an archive file, then deleted; "delete").
    released_retention_days: int = 365
    released_disposal: str = "archive"

    @property
    def profile(self) -> Profile:
        """The jurisdiction profile this policy runs under (approvals, documents, references)."""
        return profile(self.jurisdiction)

    def metric_bound(self, name: str) -> MetricBound:
        """The bound for metric ``name``; ``KeyError`` if the policy does not allow it."""
        for bound in self.metrics:
            if bound.name == name:
                return bound
        raise KeyError(name)

    def report(self, report_id: str) -> ReportDef:
        """The catalogue entry ``report_id``; ``KeyError`` if it is not in the catalogue."""
        for report in self.reports:
            if report.report_id == report_id:
                return report
        raise KeyError(report_id)

    def windows(self, cadence: Cadence) -> tuple[Window, ...]:
        """Every window of ``cadence`` inside the policy period."""
        return windows_between(self.period_start, self.period_end, cadence)

    @property
    def metric_names(self) -> frozenset[str]:
        """Names of every metric this policy allows."""
        return frozenset(bound.name for bound in self.metrics)
