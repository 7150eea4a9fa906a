"""Read the governance state through these frozen values; nothing here touches the database.

``PolicyState`` and ``Party`` name the lifecycle and the two signatories; the dataclasses are
what ``GovernanceDB`` returns. None of them can hold a worker's pseudonym or value: they carry
policy ids, hashes, counts, report ids and the names of the staff who acted.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass

from teamlens.domain import Policy, Rho


class PolicyState(enum.StrEnum):
    """Where one policy version is in its life; only ``ACTIVE`` lets data in or releases out.

    Used now: ``PROPOSED`` (waiting for both approvals; R2 calls it pending), ``ACTIVE``,
    ``SUSPENDED`` (kill switch, R3/R40) and ``SUPERSEDED`` (a newer version of the same policy
    became active). The others are named now so the consultation workflow can add them without
    a schema change: ``DRAFT`` and ``CONSULTATION`` come before ``PROPOSED``, ``APPROVED`` is
    signed but waiting for its DPIA sign-off or start date, ``LAPSED`` is past its review date
    (R6) and ``RETIRED`` was ended by agreement.
    """

    DRAFT = "draft"
    CONSULTATION = "consultation"
    PROPOSED = "proposed"
    APPROVED = "approved"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    LAPSED = "lapsed"
    SUPERSEDED = "superseded"
    RETIRED = "retired"


#: Which state changes ``GovernanceDB`` may make today; the workflow task extends this table.
TRANSITIONS: Mapping[PolicyState, frozenset[PolicyState]] = {
    PolicyState.PROPOSED: frozenset({PolicyState.ACTIVE}),
    PolicyState.ACTIVE: frozenset({PolicyState.SUSPENDED, PolicyState.SUPERSEDED}),
}


class Party(enum.StrEnum):
    """The two signatories every policy version needs (R2): employer and workers' representative."""

    EMPLOYER = "employer"
    REPRESENTATIVE = "representative"


@dataclass(frozen=True)
class Approval:
    """One party's approval of the exact bytes of one policy version."""

    party: Party
    approver: str
    sha256: str
    approved_at: dt.datetime


@dataclass(frozen=True)
class PolicyVersionInfo:
    """One stored policy version: who proposed it, its hash, its state and who has approved it."""

    policy_id: str
    version: int
    title: str
    state: PolicyState
    sha256: str
    source: str
    proposed_by: str
    created_at: dt.datetime
    state_changed_at: dt.datetime
    approvals: tuple[Approval, ...]
    warnings: tuple[str, ...] = ()

    @property
    def missing_parties(self) -> tuple[Party, ...]:
        """The parties whose approval of this exact text is still missing."""
        signed = {approval.party for approval in self.approvals if approval.sha256 == self.sha256}
        return tuple(party for party in Party if party not in signed)


@dataclass(frozen=True)
class ActivePolicy:
    """The policy in force, re-verified against its stored text and both approvals."""

    policy: Policy
    sha256: str
    text: str
    activated_at: dt.datetime
    approvals: tuple[Approval, ...]

    @property
    def policy_id(self) -> str:
        """The policy's id (``[policy] id`` in the TOML)."""
        return self.policy.policy_id

    @property
    def version(self) -> int:
        """The policy's version number (``[policy] version`` in the TOML)."""
        return self.policy.version


@dataclass(frozen=True)
class ReleaseInfo:
    """One recorded release: which report, windows and metrics, and the budget it charged."""

    release_id: str
    policy_id: str
    policy_version: int
    period_start: dt.date
    report_id: str
    spec_key: str
    windows: tuple[str, ...]
    metrics: tuple[str, ...]
    rho: Rho
    cells: int
    released_by: str
    released_at: dt.datetime


@dataclass(frozen=True)
class IngestionInfo:
    """One ingested input, known by its content hash (never by what was in it).

    ``rows`` is ``None`` when the record was added after the fact (see ``ensure_ingestion_recorded``).
    """

    content_hash: str
    source: str
    label: str
    rows: int | None
    ingested_by: str
    ingested_at: dt.datetime


@dataclass(frozen=True)
class AuditEntry:
    """One link of the hash-chained audit log."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    details: Mapping[str, object]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditVerification:
    """The result of re-walking the audit chain; ``problem`` says what broke at ``first_bad_seq``."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""
