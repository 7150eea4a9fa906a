"""The policy half of ``GovernanceDB``: lifecycle, consultation and the verified active policy."""

from __future__ import annotations

from typing import Any

from teamlens.errors import NoApprovedPolicy, PolicyError, PolicyLapsed
from teamlens.governance import (
    consultation,
    decisions,
    dpia_signoff,
    key_sets,
    notifications,
    policy_integrity,
    policy_stops,
    signed_history,
)
from teamlens.governance import policy_versions as lifecycle
from teamlens.governance import version_rows as rows
from teamlens.governance._engine import SYSTEM_ACTOR, _Core
from teamlens.governance.policy_file import parse_policy
from teamlens.governance.policy_integrity import IntegrityFailure
from teamlens.governance.records import (
    ActivePolicy,
    ConsultationEntry,
    ConsultationRecord,
    DpiaSignOff,
    EntryKind,
    KeySetInfo,
    NotConsulted,
    Notification,
    PolicyState,
    PolicyVersionInfo,
    SignedDecision,
    StoredPolicy,
)
from teamlens.verify import KeySet, PartyKey


class _PolicyAPI(_Core):
    """Policy versions from draft to retirement; every change is one audited transaction."""

    def propose(self, text: str, source: str, actor: str) -> PolicyVersionInfo:
        """Parse and store a policy version as a ``draft``; it runs only once both parties approve."""
        parsed = parse_policy(text, source)
        with self._write() as conn:
            return lifecycle.propose(conn, parsed, source, actor, self._now())

    def approve(
        self,
        policy_id: str,
        version: int,
        signed: SignedDecision,
        approver: str,
        actor: str,
        *,
        sha256: str | None = None,
    ) -> PolicyVersionInfo:
        """Record one party's signed approval of a stored version; with both, it becomes ``active``.

        The party is the one whose registered key signed (``decision_statement`` writes what to
        sign). One signature is enough for a version that only narrows the active version of the
        same policy (R3). ``sha256``, when given, must be the hash of the text the approver
        reviewed: approving a text that changed since is refused. Approving twice is a no-op.
        """
        with self._write() as conn:
            return lifecycle.approve(conn, policy_id, version, signed, approver, actor, self._now(), sha256)

    def activate(self, policy_id: str, version: int, signed: SignedDecision, actor: str) -> PolicyVersionInfo:
        """Start an ``approved`` version that waited while another policy was in force (one party signs)."""
        with self._write() as conn:
            return lifecycle.activate(conn, policy_id, version, signed, actor, self._now())

    def suspend(self, policy_id: str, signed: SignedDecision, actor: str) -> PolicyVersionInfo:
        """Stop the active version of a policy at once; either party's signature suffices (R3, R40)."""
        with self._write() as conn:
            return policy_stops.suspend(conn, policy_id, signed, actor, self._now())

    def lift(self, policy_id: str, version: int, signed: SignedDecision, actor: str) -> PolicyVersionInfo:
        """Sign the lifting of a suspension; with both parties' signatures the version runs again."""
        with self._write() as conn:
            return policy_stops.lift(conn, policy_id, version, signed, actor, self._now())

    def retire(self, policy_id: str, version: int, signed: SignedDecision, actor: str) -> PolicyVersionInfo:
        """End a version for good, or withdraw one that never ran; either party's signature suffices."""
        with self._write() as conn:
            return policy_stops.retire(conn, policy_id, version, signed, actor, self._now())

    def decision_statement(
        self, action: str, party: str, policy_id: str, version: int | None = None, *, text: str | None = None
    ) -> dict[str, Any]:
        """What ``party`` signs to take ``action`` on a policy version now (``version`` None: the active one).

        It names the version's text hash (and, for an approval, the consultation record's; for a
        response or reasons, the text's), a timestamp and a fresh nonce (``decisions``).
        """
        with self._read() as conn:
            if version is None:
                active = rows.active_row(conn)
                newest = rows.all_versions(conn, policy_id)
                if active is None and newest and newest[-1].state is PolicyState.SUSPENDED:
                    active = rows.require_row(conn, policy_id, newest[-1].version)  # suspending again
                if active is None or active.policy_id != policy_id:
                    raise PolicyError(
                        f"Policy '{policy_id}' has no active version to {action.split('.')[-1]}.",
                        "`teamlens policy list` shows every policy and its state.",
                    )
                version = int(str(active.version))
            found = rows.require_row(conn, policy_id, version)
            fields: dict[str, object] = {"policy_id": policy_id, "version": version}
            if action in ("consultation.response", "consultation.not_consulted"):
                fields["text_sha256"] = consultation.text_sha256(text or "")
            else:
                fields["sha256"] = str(found.sha256)
            if action == "policy.approve":
                fields["record_sha256"] = consultation.record(conn, policy_id, version).sha256
        return decisions.statement(action, party, self._now(), **fields)

    def fresh_statement(self, action: str, party: str, **fields: object) -> dict[str, Any]:
        """A statement for an action that concerns no policy version (rights requests, key use)."""
        return decisions.statement(action, party, self._now(), **fields)

    # -- the parties' keys ------------------------------------------------------------------

    def propose_key_set(self, keys: list[PartyKey], roles_sha256: str, actor: str) -> KeySetInfo:
        """Propose a set of the parties' public keys; it is registered once signed (``key_sets``)."""
        with self._write() as conn:
            return key_sets.propose(conn, keys, roles_sha256, actor, self._now())

    def sign_key_set(self, digest: str, signature: dict[str, Any], actor: str) -> KeySetInfo:
        """Add one key holder's signature to a proposed key set; registered once both parties witnessed it."""
        with self._write() as conn:
            return key_sets.add_signature(conn, digest, signature, actor, self._now())

    def key_sets(self) -> list[KeySetInfo]:
        """Every key set proposed, oldest first, with whose signature each still waits for."""
        with self._read() as conn:
            return key_sets.listed(conn)

    def registered_keys(self) -> KeySet | None:
        """The key set in force (re-verified from the audit log), or None before any was registered."""
        with self._read() as conn:
            return decisions.key_set_in_force(conn)

    def signature_problems(self) -> list[str]:
        """Signed decisions in the log that do not verify, and approvals no valid signature proves."""
        with self._read() as conn:
            return signed_history.problems(conn)

    # -- consultation (R5) ------------------------------------------------------------------

    def consult(
        self, policy_id: str, version: int, signed: SignedDecision, actor: str, planner_json: str
    ) -> PolicyVersionInfo:
        """Publish a draft to workers for their views (the employer signs), with its planner figures."""
        with self._write() as conn:
            return consultation.publish(conn, policy_id, version, signed, actor, planner_json, self._now())

    def add_view(
        self, policy_id: str, version: int, kind: EntryKind | str, author: str, text: str
    ) -> ConsultationEntry:
        """Record a comment or objection on a proposal in consultation (anyone may; R5)."""
        try:
            entry_kind = EntryKind(kind)
        except ValueError:
            raise PolicyError(f"'{kind}' is not a kind of view.", "Use 'comment' or 'objection'.") from None
        with self._write() as conn:
            return consultation.add_view(conn, policy_id, version, entry_kind, author, text, self._now())

    def respond(
        self, policy_id: str, version: int, signed: SignedDecision, author: str, text: str
    ) -> ConsultationEntry:
        """Record the employer's signed response to the consultation's views (employer only)."""
        with self._write() as conn:
            return consultation.respond(conn, policy_id, version, signed, author, text, self._now())

    def record_not_consulted(
        self, policy_id: str, version: int, signed: SignedDecision, author: str, reason: str
    ) -> NotConsulted:
        """Record the employer's signed reasons for not consulting on a draft (R5); joins the record."""
        with self._write() as conn:
            return consultation.record_not_consulted(
                conn, policy_id, version, signed, author, reason, self._now()
            )

    def consultation(self, policy_id: str, version: int) -> ConsultationRecord:
        """The consultation record of one version, as the approvals signed it."""
        with self._read() as conn:
            return consultation.record(conn, policy_id, version)

    # -- DPIA sign-off (R4) -----------------------------------------------------------------

    def sign_off_dpia(
        self,
        policy_id: str,
        version: int,
        *,
        dpia_sha256: str,
        measures_by: str,
        residual_risk: str,
        dpo_advice: str,
        consultation_reviewed_by: str,
        actor: str,
        overruled_because: str | None = None,
    ) -> DpiaSignOff:
        """Record the DPIA sign-off of a version (ICO step 7); without one it cannot be approved.

        ``dpia_sha256`` is the hash of the DPIA the signatories read (``services.sign_off_dpia``
        renders and hashes it). ``overruled_because`` given means the DPO's advice was overruled,
        for those reasons. Signing again before approval replaces the sign-off.
        """
        with self._write() as conn:
            return dpia_signoff.sign_off(
                conn,
                policy_id,
                version,
                dpia_sha256=dpia_sha256,
                measures_by=measures_by,
                residual_risk=residual_risk,
                dpo_advice=dpo_advice,
                overruled_because=overruled_because,
                consultation_reviewed_by=consultation_reviewed_by,
                actor=actor,
                now=self._now(),
            )

    def dpia_signoff(self, policy_id: str, version: int) -> DpiaSignOff | None:
        """The DPIA sign-off of one version, if it has one."""
        with self._read() as conn:
            return dpia_signoff.get(conn, policy_id, version)

    # -- notifications (R6, R16) -----------------------------------------------------------

    def notify(self, audience: str, kind: str, policy_id: str, version: int, text: str) -> Notification:
        """Store a message for "workers", "employer" or "representative" about a policy version."""
        with self._write() as conn:
            return notifications.notify(conn, audience, kind, policy_id, version, text, self._now())

    def record_notice_version(
        self, policy_id: str, version: int, notice_sha256: str, generated_at: str, actor: str
    ) -> Notification:
        """Tell workers which notice (its HTML's sha256, when generated) applies from activation on."""
        with self._write() as conn:
            return notifications.record_notice_version(
                conn, policy_id, version, notice_sha256, generated_at, actor, self._now()
            )

    def notifications(self, audience: str | None = None) -> list[Notification]:
        """Every notification (for ``audience`` if given), oldest first."""
        with self._read() as conn:
            return notifications.listed(conn, audience)

    # -- reading ----------------------------------------------------------------------------

    def active_policy(self) -> ActivePolicy | None:
        """Return the policy in force, re-verified against its text and approvals; ``None`` if none.

        A policy whose review date has passed is marked ``lapsed`` here (R6) and ``None`` is
        returned. Raises ``errors.PolicyError`` (and logs it) when the stored record was altered.
        """
        try:
            with self._read() as conn:
                active = policy_integrity.load_active(conn)
        except IntegrityFailure as failure:
            raise self._log_integrity_failure(failure) from None
        if active is not None and active.policy.review_date < self._now().date():
            with self._write() as conn:
                policy_stops.lapse_if_due(conn, SYSTEM_ACTOR, self._now())
            return None
        return active

    def require_active_policy(self, action: str) -> ActivePolicy:
        """Return the verified policy in force, or raise ``errors.NoApprovedPolicy`` naming ``action``.

        Raises the subclass ``errors.PolicyLapsed`` when the last policy stopped at its review date.
        """
        active = self.active_policy()
        if active is not None:
            return active
        with self._read() as conn:
            stopped = policy_stops.last_stopped(conn)
        if stopped is not None and stopped.state is PolicyState.LAPSED:
            found = self.stored_policy(stopped.policy_id, stopped.version)
            raise PolicyLapsed(action, stopped.policy_id, stopped.version, found.policy.review_date)
        raise NoApprovedPolicy(action)

    def policy_versions(self, policy_id: str | None = None) -> list[PolicyVersionInfo]:
        """List every stored version (of ``policy_id`` if given), by policy id and version."""
        with self._read() as conn:
            return rows.all_versions(conn, policy_id)

    def stored_policy(self, policy_id: str, version: int | None = None) -> StoredPolicy:
        """One stored version (the newest of ``policy_id`` if ``version`` is None), parsed."""
        with self._read() as conn:
            if version is None:
                versions = rows.all_versions(conn, policy_id)
                if not versions:
                    raise PolicyError(
                        f"There is no policy '{policy_id}'.", "`teamlens policy list` shows what is stored."
                    )
                version = versions[-1].version
            found = rows.require_row(conn, policy_id, version)
            return StoredPolicy(rows.info(conn, found), rows.parsed(found).policy, found.toml)
