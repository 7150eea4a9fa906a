"""Open the governance database with ``GovernanceDB(url)``; every write is one audited transaction.

SQLite (the default: one file in the data folder) and PostgreSQL (``postgresql+psycopg://…``)
are both supported. ``GovernanceDB`` creates missing tables itself; an installation that is
upgraded between teamlens versions runs ``teamlens.governance.upgrade(url)`` first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import pyarrow as pa
import sqlalchemy as sa

from teamlens.domain import ReleasedCell, Rho
from teamlens.errors import BooksMismatch
from teamlens.governance import (
    api_tokens,
    audit_log,
    books,
    checkpoints,
    decisions,
    ledger,
    measurement_cache,
    rights_requests,
    signed_history,
    views,
    web_sessions,
)
from teamlens.governance import ingestions as ingestion_log
from teamlens.governance import objections as objection_list
from teamlens.governance._duties_api import _DutiesAPI
from teamlens.governance._engine import SYSTEM_ACTOR
from teamlens.governance._policy_api import _PolicyAPI
from teamlens.governance.api_tokens import StoredToken
from teamlens.governance.measurement_cache import BlockMeasurement, MeasuredBlock
from teamlens.governance.records import (
    ActivePolicy,
    AuditEntry,
    AuditVerification,
    Checkpoint,
    IngestionInfo,
    ReleaseInfo,
    SignedDecision,
)
from teamlens.governance.rights_requests import RightsRequest
from teamlens.governance.tables import audit_head
from teamlens.governance.web_sessions import StoredSession

__all__ = ["SYSTEM_ACTOR", "GovernanceDB"]


class GovernanceDB(_DutiesAPI, _PolicyAPI):
    """The governance state: policy versions and approvals, the budget ledger, releases, audit log.

    ``GovernanceDB(url, clock=...)``: ``clock`` returns the current time (aware); tests pass a
    fixed one. Methods that change anything append to the hash-chained audit log in the same
    transaction. The policy lifecycle and consultation methods are documented in ``_policy_api``.
    """

    def __enter__(self) -> GovernanceDB:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- budget ledger and release cache ------------------------------------------------------

    def spent(self, policy_id: str, period_start: dt.date, period_end: dt.date | None = None) -> Rho:
        """Return the exact privacy budget already charged in one policy period.

        Give ``period_end`` to also count charges of other policies over the same weeks.
        """
        with self._read() as conn:
            return ledger.spent(conn, policy_id, period_start, period_end)

    def measured_blocks(self, policy_id: str, period_start: dt.date) -> dict[str, MeasuredBlock]:
        """Every clipping block already measured in one policy period, by key."""
        with self._read() as conn:
            return measurement_cache.measured(conn, policy_id, period_start)

    def measurements(self, policy_id: str, period_start: dt.date, block_keys: Iterable[str]) -> pa.Table:
        """The kept noisy values of ``block_keys`` (``domain.MEASUREMENT_SCHEMA``)."""
        with self._read() as conn:
            return measurement_cache.read_rows(conn, policy_id, period_start, block_keys)

    def published_keys(self, policy_id: str, period_start: dt.date, report_id: str) -> set[tuple[str, str]]:
        """Return the (window, metric) pairs a report has already published: free to show again."""
        with self._read() as conn:
            return measurement_cache.published_keys(conn, policy_id, period_start, report_id)

    def published_cells(
        self, policy_id: str, period_start: dt.date, report_id: str, windows: Sequence[str]
    ) -> list[tuple[ReleasedCell, str]]:
        """A report's published cells of ``windows``, each with the release that published it."""
        with self._read() as conn:
            return measurement_cache.published(conn, policy_id, period_start, report_id, windows)

    def check_books(self, policy_id: str, period_start: dt.date, using: Iterable[str] = ()) -> None:
        """Refuse (and record why) when the ledger or kept measurements disagree with the audit log.

        ``using``: the blocks a release is about to read, whose noisy values are re-hashed too.
        """
        with self._read() as conn:
            problem = books.check_books(conn, policy_id, period_start, using)
        if not problem:
            return
        with self._write() as conn:
            details = {"policy_id": policy_id, "problem": problem}
            audit_log.append(conn, self._now(), SYSTEM_ACTOR, "ledger.mismatch", details)
        raise BooksMismatch(problem)

    def record_release(
        self,
        *,
        release_id: str,
        active: ActivePolicy,
        report_id: str,
        spec_key: str,
        windows: Sequence[str],
        metrics: Sequence[str],
        rho: Rho,
        blocks: Sequence[BlockMeasurement],
        cells: Sequence[ReleasedCell],
        actor: str,
        total_budget: Rho,
    ) -> ReleaseInfo:
        """Charge the ledger, keep the measured ``blocks`` and published ``cells``, and audit it, atomically.

        Re-checks inside the transaction that ``active`` is still the active version and that
        spent + ``rho`` ≤ ``total_budget``; raises ``BudgetExceeded`` (nothing written) if not.
        """
        with self._write() as conn:
            return ledger.record_release(
                conn,
                release_id=release_id,
                active=active,
                report_id=report_id,
                spec_key=spec_key,
                windows=windows,
                metrics=metrics,
                rho=rho,
                blocks=blocks,
                cells=cells,
                actor=actor,
                total_budget=total_budget,
                now=self._now(),
            )

    def spent_on_bounds(self, policy_id: str, period_start: dt.date) -> Rho:
        """What suggesting bounds has charged so far in one policy period."""
        with self._read() as conn:
            return ledger.spent_on_bounds(conn, policy_id, period_start)

    def record_bounds(
        self,
        *,
        release_id: str,
        active: ActivePolicy,
        block_key: str,
        rho: Rho,
        details: dict[str, object],
        actor: str,
    ) -> ReleaseInfo:
        """Charge a bounds suggestion and audit its findings (DP outputs only) in one transaction."""
        with self._write() as conn:
            return ledger.record_bounds(
                conn,
                release_id=release_id,
                active=active,
                block_key=block_key,
                rho=rho,
                details=details,
                actor=actor,
                now=self._now(),
            )

    def bounds_suggestions(self, policy_id: str) -> list[dict[str, object]]:
        """The findings of every bounds suggestion for ``policy_id``, oldest first (from the audit log)."""
        with self._read() as conn:
            return [
                dict(details)
                for details in audit_log.details_of(conn, "bounds.record")
                if details.get("policy_id") == policy_id
            ]

    def released_windows(self) -> dict[str, frozenset[str]]:
        """The windows whose cells each release published (repeats belong to the first release)."""
        with self._read() as conn:
            return measurement_cache.windows_by_release(conn)

    def releases(self, policy_id: str | None = None) -> list[ReleaseInfo]:
        """List every recorded release (of ``policy_id`` if given), oldest first."""
        with self._read() as conn:
            return ledger.all_releases(conn, policy_id)

    # -- ingestions and objections -----------------------------------------------------------

    def record_ingestion(
        self, content_hash: str, source: str, label: str, rows: int, actor: str
    ) -> IngestionInfo:
        """Record that an input with this content hash was ingested (audited without its label)."""
        with self._write() as conn:
            return ingestion_log.record(conn, content_hash, source, label, rows, actor, self._now())

    def ensure_ingestion_recorded(self, content_hash: str, source: str, label: str, actor: str) -> bool:
        """Record an input the fact store already holds if governance missed it; True if it did."""
        with self._write() as conn:
            return ingestion_log.ensure(conn, content_hash, source, label, actor, self._now())

    def ingestions(self) -> list[IngestionInfo]:
        """List every recorded ingestion, oldest first."""
        with self._read() as conn:
            return ingestion_log.all_ingestions(conn)

    def record_objection(self, pseudonym: str, actor: str) -> bool:
        """Exclude a worker's pseudonym from every later aggregate (R22); False if already excluded."""
        with self._write() as conn:
            return objection_list.record(conn, pseudonym, actor, self._now())

    def withdraw_objection(self, pseudonym: str, actor: str) -> bool:
        """Stop excluding a pseudonym (the worker withdrew the objection); False if it was not excluded."""
        with self._write() as conn:
            return objection_list.withdraw(conn, pseudonym, actor, self._now())

    def excluded_persons(self, window_start: dt.date | None = None) -> frozenset[str]:
        """Return the pseudonyms to leave out; show them to no analyst.

        With ``window_start``, only those who objected before that window began (an objection
        applies from the next window on, R22); without it, everyone who has objected.
        """
        with self._read() as conn:
            return objection_list.excluded(conn, window_start)

    def objections(self) -> list[tuple[str, dt.datetime]]:
        """The exclusion list with when each objection was recorded; only for the people R22 names."""
        with self._read() as conn:
            return objection_list.listed(conn)

    # -- requests about one worker (R20–R22), each signed ---------------------------------------

    def worker_request(self, pseudonym: str, kind: str) -> RightsRequest:
        """Record a request the signed-in worker made at /me (access, erasure, objection)."""
        with self._write() as conn:
            return rights_requests.from_worker(conn, pseudonym, kind, self._now())

    def offline_request(
        self, pseudonym: str, kind: str, reference: str, signed: SignedDecision, actor: str
    ) -> RightsRequest:
        """Record the DPO's signed off-line request; the representative must countersign it."""
        with self._write() as conn:
            return rights_requests.offline(conn, pseudonym, kind, reference, signed, actor, self._now())

    def countersign_request(self, signed: SignedDecision, actor: str) -> RightsRequest:
        """Record the representative's countersignature on an off-line request."""
        with self._write() as conn:
            return rights_requests.countersign(conn, signed, actor, self._now())

    def fulfil_request(self, signed: SignedDecision, actor: str) -> tuple[RightsRequest, str]:
        """The DPO's signed fulfilment: the request and the worker's pseudonym (see ``rights_requests``)."""
        with self._write() as conn:
            return rights_requests.fulfil(conn, signed, actor, self._now())

    def rights_requests(self, pseudonym: str | None = None) -> list[RightsRequest]:
        """Every request (one worker's with ``pseudonym``), newest first, never naming who it is about."""
        with self._read() as conn:
            return rights_requests.listed(conn, pseudonym)

    def accept_decision(self, signed: SignedDecision, action: str, **bound: object) -> dict[str, object]:
        """Check and use up a signed decision that changes nothing stored (seeing the exclusion list)."""
        with self._write() as conn:
            proof = decisions.accept(conn, signed, action, self._now(), **bound)
            audit_log.append(conn, self._now(), signed.party, action, dict(proof))
            return proof

    # -- one view per worker per proposal ------------------------------------------------------

    def give_view(self, policy_id: str, version: int, kind: str, voter: str, author: str, text: str) -> bool:
        """Record or replace the one view of kind ``kind`` a voter gives a proposal; True if replaced."""
        with self._write() as conn:
            return views.give(conn, policy_id, version, kind, voter, author, text, self._now())

    # -- web sessions ------------------------------------------------------------------------------

    def start_session(
        self, token_hash: str, pseudonym: str, roles: str, roles_sha256: str, mfa: bool
    ) -> None:
        """Store a new web session (the browser holds the token; this its hash)."""
        with self._unaudited_write() as conn:
            web_sessions.start(conn, token_hash, pseudonym, roles, roles_sha256, mfa, self._now())

    def session(self, token_hash: str) -> StoredSession | None:
        """The stored session with this token hash, or None (never a revoked one)."""
        with self._read() as conn:
            return web_sessions.get(conn, token_hash)

    def touch_session(self, token_hash: str, **changes: object) -> None:
        """Mark a session used now (idle timeout), and change its second factor or pending statement."""
        with self._unaudited_write() as conn:
            web_sessions.touch(conn, token_hash, self._now(), **changes)

    def revoke_sessions(self, token_hash: str | None = None) -> int:
        """Revoke one session (sign-out), or every session; returns how many were revoked."""
        with self._unaudited_write() as conn:
            return web_sessions.revoke(conn, token_hash, self._now())

    # -- personal API tokens ---------------------------------------------------------------------

    def create_api_token(self, token_hash: str, token: StoredToken) -> None:
        """Keep a new API token by its hash (``token.created_at`` and ``expires_at`` as given)."""
        with self._unaudited_write() as conn:
            api_tokens.create(conn, token_hash, token)

    def api_token(self, token_hash: str) -> StoredToken | None:
        """The unrevoked API token with this hash, or None."""
        with self._read() as conn:
            return api_tokens.get(conn, token_hash)

    def api_tokens_of(self, owner: str) -> list[StoredToken]:
        """An owner's unrevoked API tokens, newest first."""
        with self._read() as conn:
            return api_tokens.owned(conn, owner)

    def revoke_api_tokens(self, **only: str) -> int:
        """Revoke the live API tokens matching ``only`` (``api_tokens.revoke``; every one with no
        filter); returns how many."""
        with self._unaudited_write() as conn:
            return api_tokens.revoke(conn, self._now(), **only)

    # -- audit log -----------------------------------------------------------------------------

    def append_audit(self, actor: str, action: str, details: Mapping[str, object]) -> AuditEntry:
        """Append one entry to the audit log; ``details`` hold ids, hashes and counts, never personal data."""
        with self._write() as conn:
            return audit_log.append(conn, self._now(), actor, action, details)

    def verify_audit(self) -> AuditVerification:
        """Re-walk the audit chain, then re-check every key registration and signed decision in it.

        Reports the first entry that was altered or removed, else the first signature that does
        not verify or approval that no valid signature proves (``signed_history.problems``).
        """
        with self._read() as conn:
            chain = audit_log.verify(conn)
            if not chain.ok:
                return chain
            problems = signed_history.problems(conn)
        if problems:
            return AuditVerification(False, chain.entries, None, "; ".join(problems[:3]))
        return chain

    def export_audit(self) -> list[dict[str, object]]:
        """Every audit entry oldest first, as stored: what the stand-alone verifier checks."""
        with self._read() as conn:
            return audit_log.exported(conn)

    def audit_seq_before(self, at: dt.datetime) -> int:
        """The number of the last audit entry recorded before ``at`` (0 when there is none)."""
        with self._read() as conn:
            return audit_log.last_seq_before(conn, at)

    def audit_entries(
        self, limit: int = 50, offset: int = 0, *, newest_first: bool = True, before: int | None = None
    ) -> list[AuditEntry]:
        """Read ``limit`` audit entries after skipping ``offset``; newest first unless told otherwise.

        ``before`` keeps only entries numbered below it (the next page of a newest-first listing).
        """
        with self._read() as conn:
            return audit_log.entries(conn, limit, offset, newest_first=newest_first, before=before)

    def audit_counts(self) -> dict[str, int]:
        """How many audit entries there are of each action (for the transparency register)."""
        with self._read() as conn:
            return audit_log.action_counts(conn)

    def checkpoint(self, key_pem: bytes, source: str, actor: str) -> Checkpoint:
        """Sign the audit log's current head with the key in ``key_pem``, and log that it was signed.

        The checkpoint commits to the head before its own ``audit.checkpoint`` entry is appended.
        """
        key = checkpoints.load_private_key(key_pem, source)
        with self._write() as conn:
            seq, head_hash = audit_log.lock_head(conn)
            signed = checkpoints.sign(key, seq, head_hash, self._now())
            details = {"seq": seq, "head_hash": head_hash, "public_key": signed.public_key}
            audit_log.append(conn, self._now(), actor, "audit.checkpoint", details)
        return signed

    def verify_checkpoint(self, checkpoint: Checkpoint, public_key: str | None = None) -> AuditVerification:
        """Verify the log against a checkpoint the representative held: catches truncation and rebuilding."""
        with self._read() as conn:
            return checkpoints.verify_against(conn, checkpoint, public_key)

    def audit_head(self) -> tuple[int, str]:
        """Return the last entry's (seq, hash): what a signed checkpoint will commit to."""
        with self._read() as conn:
            row = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash)).one()
        return int(row.seq), str(row.hash)
