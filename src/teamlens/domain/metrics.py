"""The closed catalogue of metrics teamlens can compute.

Every metric is a per-person, per-period integer value with a declared formula (requirement
R9: no model, no score, no inference about a person). Time is stored as whole minutes and
shares as thousandths (a per-person value in [0, 1] times 1,000) so that noise is added to
integers. A policy names the metrics it allows and their per-week bounds; connectors may only
produce metrics listed here. Each metric answers one of the report's questions, names the
sources it needs and what it does not measure: activity, never productivity. The entries
themselves are in ``metric_catalogue.py``; ``docs/catalogue.md`` is generated from them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Unit(enum.StrEnum):
    """How a metric is counted and shown."""

    COUNT = "count"
    MINUTES = "minutes"
    #: A per-person value in [0, 1], stored in thousandths: its mean is a share of people.
    SHARE = "share"


class Question(enum.StrEnum):
    """The question of the report a metric helps answer, in the order a reader asks them."""

    MEETING_LOAD = "meeting load"
    FOCUS = "focus"
    DISCONNECT = "disconnect"
    EMAIL_CHAT = "email & chat time"
    MANAGER_TIME = "manager time"
    COLLABORATION = "collaboration"
    ADOPTION = "adoption"

    @property
    def key(self) -> str:
        """The question's short name, as pages anchor it ("meeting-load", "email-chat", …)."""
        return _KEYS.get(self.value, self.value.replace(" ", "-"))


_KEYS = {"email & chat time": "email-chat", "manager time": "manager-time", "meeting load": "meeting-load"}

#: Thousandths: the stored value of a share of 1 (one person-week that counts wholly).
SHARE_SCALE = 1000

#: What no metric measures; each metric adds what it, in particular, leaves out.
ACTIVITY_NOT_PRODUCTIVITY = "activity, not productivity: how much, never how well or how usefully"


@dataclass(frozen=True)
class MetricDef:
    """A metric: its stored integer unit, how it is shown, the formula it comes from and its limits.

    ``weekly_bound`` is the catalogue's suggested most one person may contribute per ISO week, in
    the stored unit (a policy sets its own); ``sources`` the kinds of export that give it;
    ``not_measured`` what a reader might take it for and it is not.
    """

    name: str
    label: str
    unit: Unit
    formula: str
    question: Question
    sources: tuple[str, ...]
    weekly_bound: int
    not_measured: str = ""

    @property
    def display_unit(self) -> str:
        """The unit people read: hours for time, a share for shares, the count otherwise."""
        if self.unit is Unit.MINUTES:
            return "hours"
        if self.unit is Unit.SHARE:
            return "share of people"
        return self.label.lower()

    @property
    def display_divisor(self) -> int:
        """Divide the stored integer by this to get the displayed unit."""
        if self.unit is Unit.MINUTES:
            return 60
        return SHARE_SCALE if self.unit is Unit.SHARE else 1


def _catalogue() -> dict[str, MetricDef]:
    from teamlens.domain.metric_catalogue import ALL

    return {definition.name: definition for definition in ALL}


METRICS: dict[str, MetricDef] = _catalogue()


def metric(name: str) -> MetricDef:
    """Look up a metric by name; raises ``KeyError`` naming the known metrics."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric '{name}' (known: {', '.join(sorted(METRICS))})") from None


def metrics_for(question: Question) -> tuple[MetricDef, ...]:
    """The catalogue's metrics that answer ``question``, in catalogue order."""
    return tuple(definition for definition in METRICS.values() if definition.question is question)
