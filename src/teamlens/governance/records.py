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
from typing import Any

from teamlens.domain import Policy, Rho


class PolicyState(enum.StrEnum):
    """Where one policy version is in its life; only ``ACTIVE`` lets data in or releases out.

    ``DRAFT`` (stored by ``propose``) → ``CONSULTATION`` (published to workers, who comment and
    object; R5) → ``PROPOSED`` (one party has signed, the other's signature is pending; R2) →
    ``APPROVED`` (both signed; waiting only while another policy is active) → ``ACTIVE``. An
    active version ends ``SUSPENDED`` (kill switch, R3/R40; both parties' signatures lift it),
    ``LAPSED`` (its review date passed
    without renewal, R6), ``SUPERSEDED`` (a newer version of the same policy became active) or
    ``RETIRED`` (ended, or withdrawn before it ever ran).
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


#: Every state change ``GovernanceDB`` may make; anything else is a bug (``InternalError``).
TRANSITIONS: Mapping[PolicyState, frozenset[PolicyState]] = {
    PolicyState.DRAFT: frozenset(
        {PolicyState.CONSULTATION, PolicyState.PROPOSED, PolicyState.APPROVED, PolicyState.RETIRED}
    ),
    PolicyState.CONSULTATION: frozenset({PolicyState.PROPOSED, PolicyState.APPROVED, PolicyState.RETIRED}),
    PolicyState.PROPOSED: frozenset({PolicyState.APPROVED, PolicyState.RETIRED}),
    PolicyState.APPROVED: frozenset({PolicyState.ACTIVE, PolicyState.RETIRED}),
    PolicyState.ACTIVE: frozenset(
        {PolicyState.SUSPENDED, PolicyState.SUPERSEDED, PolicyState.LAPSED, PolicyState.RETIRED}
    ),
    PolicyState.SUSPENDED: frozenset({PolicyState.RETIRED, PolicyState.ACTIVE}),
    PolicyState.LAPSED: frozenset({PolicyState.RETIRED}),
}

#: States a version never leaves: a stopped policy comes back only as a new, approved version.
FINAL_STATES = frozenset({PolicyState.SUPERSEDED, PolicyState.RETIRED})


class Party(enum.StrEnum):
    """The two signatories every policy version needs (R2): employer and workers' representative."""

    EMPLOYER = "employer"
    REPRESENTATIVE = "representative"


@dataclass(frozen=True)
class Approval:
    """One party's approval of the exact bytes of one policy version.

    ``record_sha256`` is the hash of the consultation record the party saw when signing (R5):
    the record is part of what was approved, so editing it later is detected like an edited text.
    """

    party: Party
    approver: str
    sha256: str
    approved_at: dt.datetime
    record_sha256: str | None = None


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
    tightens_version: int | None = None

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


class EntryKind(enum.StrEnum):
    """What one entry of a consultation record is (R5)."""

    PUBLISHED = "published"  # the proposal, its notice and planner figures went out to workers
    COMMENT = "comment"  # a worker's or a body's view
    OBJECTION = "objection"  # a view against the proposal (not the Art 21 objection of R22)
    RESPONSE = "response"  # the employer's answer to the views, with reasons where it departs


@dataclass(frozen=True)
class ConsultationEntry:
    """One entry of a consultation record; ``author`` is whatever label the author chose."""

    entry_id: int
    kind: EntryKind
    author: str
    text: str
    at: dt.datetime


@dataclass(frozen=True)
class NotConsulted:
    """The employer's explicit record that a version was not put to consultation, and why (R5)."""

    reason: str
    recorded_by: str
    recorded_at: dt.datetime


@dataclass(frozen=True)
class ConsultationRecord:
    """The consultation of one policy version: when it was published, the views and the response.

    ``sha256`` is what each approval commits to; ``closed`` once the first party has signed.
    """

    policy_id: str
    version: int
    entries: tuple[ConsultationEntry, ...]
    sha256: str
    closed: bool
    #: The employer's recorded reasons for not consulting (R5), if it chose not to.
    not_consulted: NotConsulted | None = None

    @property
    def published_at(self) -> dt.datetime | None:
        """When the proposal was published to workers; ``None`` if it never was."""
        return next((e.at for e in self.entries if e.kind is EntryKind.PUBLISHED), None)

    @property
    def views(self) -> tuple[ConsultationEntry, ...]:
        """The comments and objections received."""
        return tuple(e for e in self.entries if e.kind in (EntryKind.COMMENT, EntryKind.OBJECTION))

    @property
    def responses(self) -> tuple[ConsultationEntry, ...]:
        """The employer's responses."""
        return tuple(e for e in self.entries if e.kind is EntryKind.RESPONSE)

    @property
    def unanswered(self) -> int:
        """Views received after the employer's last response (all of them if it never responded)."""
        last = max((e.entry_id for e in self.responses), default=0)
        return sum(1 for e in self.views if e.entry_id > last)


@dataclass(frozen=True)
class StoredPolicy:
    """One stored policy version with its parsed policy and exact text (for documents)."""

    info: PolicyVersionInfo
    policy: Policy
    text: str


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the audit log had ``seq`` entries ending in ``head_hash`` (A17)."""

    seq: int
    head_hash: str
    signed_at: str
    public_key: str  # hex of the raw Ed25519 public key
    signature: str  # hex of the signature over ``checkpoint_message(seq, head_hash, signed_at)``


#: Who a notification is for (R6, R16).
AUDIENCES = ("workers", "employer", "representative")


@dataclass(frozen=True)
class Notification:
    """One message to workers or a party about the policy (lapse, activation, suspension, notice).

    ``notice_sha256`` and ``notice_generated_at`` are set on the workers' notice-version message:
    the worker notice that applied from that version's activation on.
    """

    notification_id: int
    audience: str
    kind: str
    policy_id: str
    version: int
    text: str
    created_at: dt.datetime
    notice_sha256: str | None = None
    notice_generated_at: str | None = None


#: The residual-risk levels a DPIA sign-off may record (ICO DPIA step 7); "high" blocks activation.
RESIDUAL_RISKS = ("low", "medium", "high")


@dataclass(frozen=True)
class DpiaSignOff:
    """The DPIA sign-off of one policy version (R4 step 7), bound to the DPIA's sha256.

    ``advice_accepted`` is False exactly when ``overruled_because`` gives the reasons the DPO's
    advice was overruled. Holds staff names and their advice, never a worker's data.
    """

    policy_id: str
    version: int
    dpia_sha256: str
    measures_by: str
    residual_risk: str
    dpo_advice: str
    advice_accepted: bool
    overruled_because: str | None
    consultation_reviewed_by: str
    signed_by: str
    signed_at: dt.datetime


@dataclass(frozen=True)
class SignedDecision:
    """A party's decision: the statement (``verify.rules``) and its key's signature over it."""

    statement: Mapping[str, Any]
    signature: Mapping[str, Any]

    @property
    def party(self) -> str:
        """The party the statement names."""
        return str(self.statement.get("party", ""))

    @property
    def action(self) -> str:
        """The action the statement names (``policy.approve``…)."""
        return str(self.statement.get("action", ""))

    def to_json(self) -> dict[str, Any]:
        """The decision as the audit log stores it (``details["signed"]``)."""
        return {"statement": dict(self.statement), "signature": dict(self.signature)}


@dataclass(frozen=True)
class KeySetInfo:
    """A key set proposed or registered: its digest, statement, signatures so far, and state.

    ``missing`` says whose signature it still waits for ("" once registered).
    """

    digest: str
    statement: Mapping[str, Any]
    signatures: tuple[Mapping[str, Any], ...]
    registered_at: dt.datetime | None
    missing: str
