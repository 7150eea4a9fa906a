"""What a reader needs to know about the approved policy, and what it tells back about one file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from teamlens.domain import METRICS, Exclusions, Policy, WorkingHours
from teamlens.errors import InternalError
from teamlens.sources.activity import Activity
from teamlens.sources.message_ledger import SeenMessages


@dataclass(frozen=True)
class ReadContext:
    """Give every reader this: how to pseudonymise, which metrics the policy allows, whom to drop.

    Readers apply it at the edge, so nothing outside the approved policy leaves them: metrics not
    in ``metrics`` are never computed, people in ``excluded_persons`` (pseudonyms of workers who
    objected) are dropped before anything is counted, and ``exclusions`` (addresses and domains
    never counted) and ``working_hours`` serve the mail and calendar connectors.
    """

    pseudonymise: Callable[[str], str]
    metrics: frozenset[str]
    excluded_persons: frozenset[str] = frozenset()
    exclusions: Exclusions = field(default_factory=Exclusions)
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    batch_rows: int = 65_536
    person_working_hours: Mapping[str, WorkingHours] = field(default_factory=dict)
    #: The messages this ingestion has counted, shared by all its inputs (mail connectors).
    messages: SeenMessages = field(default_factory=SeenMessages)
    #: The policy period [start, end): calendar series are expanded inside it only.
    period: tuple[dt.date, dt.date] | None = None
    #: The raw events this ingestion's calendar, mail and chat readers saw (``activity.py``).
    activity: Activity = field(default_factory=Activity)

    def working_hours_of(self, person: str) -> WorkingHours:
        """The working pattern of the person with pseudonym ``person`` (the organisation's by default)."""
        return self.person_working_hours.get(person, self.working_hours)

    def __post_init__(self) -> None:
        unknown = sorted(self.metrics - METRICS.keys())
        if unknown:
            # Policies are validated against the catalogue, so this can only be a caller's bug.
            raise InternalError(f"ReadContext was given metrics outside the catalogue: {', '.join(unknown)}")
        if self.batch_rows < 1:
            raise InternalError(f"ReadContext.batch_rows must be at least 1 (got {self.batch_rows})")

    @classmethod
    def from_policy(
        cls,
        policy: Policy,
        pseudonymise: Callable[[str], str],
        excluded_persons: frozenset[str] = frozenset(),
        batch_rows: int = 65_536,
    ) -> ReadContext:
        """Build the context for reading under an approved ``policy``."""
        return cls(
            pseudonymise=pseudonymise,
            metrics=policy.metric_names,
            excluded_persons=excluded_persons,
            exclusions=policy.exclusions,
            working_hours=policy.working_hours,
            batch_rows=batch_rows,
            period=(policy.period_start, policy.period_end),
        )


@dataclass
class ReadReport:
    """Show this to the admin after a read: counts and notes, never an identifier or a person's value.

    ``rows_read`` counts the data rows (or records) in the file, ``rows_kept`` those left after
    dropping objectors, ``facts`` the rows emitted, ``people_seen`` the distinct people kept.
    ``concealed`` is true when the file carried Microsoft 365 concealed names.
    """

    rows_read: int = 0
    rows_kept: int = 0
    facts: int = 0
    people_seen: int = 0
    concealed: bool = False
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Record ``text`` once (it must name columns or settings only, never a value)."""
        if text not in self.notes:
            self.notes.append(text)
