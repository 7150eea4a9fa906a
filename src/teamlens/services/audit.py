"""Reading and verifying the audit log, for everyone who may see it.

``audit_entries`` gives entries exactly as stored (``teamlens audit show``, for the auditing
representative of R24). ``audit_page`` is the web app's public page (``/audit``, which every
worker, and so every manager, can open): every entry, newest first, ``AUDIT_PAGE_SIZE`` at a
time, with the result of re-walking the whole chain. Nothing on it is derived from fewer than k
people's data: an entry made from ingested data (an input read, a retention run) shows its day
and what kind of source it was, never its row count, content hash or time of day, since one
input may be one worker's own mailbox. Entries hold no worker identifier by design
(a signed-in worker's actions are logged as "worker (signed in)", views on a proposal as
"worker"); on top of that the public page shows an entry about one worker's rights or views (an
access export, an erasure, an objection, a comment) by day only and without its per-worker
details (how many counts were exported or erased, the request's reference), so that nobody can
read the moment or the size of one worker's request off a page anyone may open. Nor can the
moment be read off when the page changes: it lists only entries recorded before today's UTC
midnight (``public_delay``), every kind alike, since entry numbers run on without gaps and a
later entry shown would give away one held back. The chain is still verified to its end.

``verify_books`` runs, for every policy period the database knows of, the check every release
runs first (``GovernanceDB.check_books``, attack A32): the budget charged and the blocks measured,
recomputed from the hash-chained release records, must agree with the ledger and the kept noisy
values. A disagreement is recorded in the audit log, as a refused release records it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

from teamlens.errors import BooksMismatch
from teamlens.governance import AuditEntry, AuditVerification
from teamlens.services.public_delay import day_start
from teamlens.services.workspace import Workspace

#: How many entries one page of the public audit log shows.
AUDIT_PAGE_SIZE = 50

#: Entries about one worker's rights or views: the details the public page may show for each.
_ABOUT_ONE_WORKER: Mapping[str, frozenset[str]] = {
    "rights.access": frozenset({"requested_by", "channel"}),
    "rights.erase": frozenset({"requested_by"}),
    "rights.object": frozenset({"requested_by"}),
    "objection.record": frozenset({"objections"}),
    "objection.withdraw": frozenset({"objections"}),
    "consultation.comment": frozenset({"policy_id", "version", "comments"}),
    "consultation.objection": frozenset({"policy_id", "version", "objections"}),
}
#: Any future action under these prefixes is treated as about one worker too (nothing shown).
_ONE_WORKER_PREFIXES = ("rights.", "objection.")
#: Entries whose figures and timing come from ingested data, which may be one worker's own export
#: (their mailbox, their calendar): only these details are public, and only the day. The row
#: count, the content hash and the second an input was read stay for the auditors
#: (``teamlens audit show``): with files read in address order and a staff list, they would give
#: each worker's activity, and the gaps between entries the size of each one's file.
_FROM_DATA: Mapping[str, frozenset[str]] = {
    "ingest.record": frozenset({"source"}),
    "retention.run": frozenset({"policy_id", "version", "retention_days", "cutoff", "backups_clear_by"}),
    "retention.released": frozenset({"policy_id", "period_start", "disposal", "releases_deleted"}),
    # A rotation's counts include the rows of the few who left: only the keys and the period are public.
    "keys.rotate": frozenset({"old_key", "new_key", "period_start"}),
}
_FROM_DATA_PREFIXES = ("ingest.", "retention.")

#: What each kind of entry means, in words a worker reads.
MEANINGS: Mapping[str, str] = {
    "installation.initialised": "teamlens was installed",
    "policy.propose": "a policy version was proposed",
    "policy.consult": "a proposal was published to workers for their views",
    "consultation.comment": "a view was given on a proposal",
    "consultation.objection": "an objection to a proposal was given",
    "consultation.response": "the employer responded to the views",
    "consultation.not_consulted": "the employer recorded why workers were not consulted",
    "dpia.signoff": "the data protection impact assessment was signed off",
    "policy.approve": "a party approved a policy version",
    "policy.activate": "a policy version came into force",
    "policy.supersede": "a newer approved version replaced the policy in force",
    "policy.suspend": "processing was suspended",
    "policy.retire": "a policy version was retired",
    "policy.lapse": "a policy stopped at its review date",
    "policy.integrity_failure": "a stored policy no longer matched what was approved; everything stopped",
    "notice.version": "workers were told which privacy notice applies",
    "ingest.record": "a collaboration-tool export was read",
    "release.record": "team-level statistics were released",
    "bounds.record": "how busy people are was measured, with noise and charged, to suggest clipping bounds",
    "retention.run": "counts older than the retention period, or of weeks fully released, were deleted",
    "retention.released": "a finished period's released statistics and ledger were archived or deleted",
    "rights.access": "a worker's own data was exported to them",
    "rights.erase": "a worker's counts were erased on their request",
    "rights.object": "an objection was recorded on a worker's request",
    "objection.record": "a worker objected to the processing",
    "objection.withdraw": "a worker withdrew their objection",
    "audit.checkpoint": "the audit log's head was signed for the representatives",
    "ledger.mismatch": "the budget ledger disagreed with the release records; releases were refused",
    "keys.propose": "a set of the parties' signing keys was proposed",
    "keys.register": "the parties' signing keys were registered, signed by both",
    "keys.rotate": "the pseudonymisation key was replaced, the old one destroyed, leavers' data deleted",
    "policy.lift": "a party signed the lifting of a suspension",
    "policy.resume": "both parties lifted a suspension; the policy runs again",
    "rights.worker_request": "a worker made a request to the DPO",
    "rights.request": "a request about a worker was signed",
    "rights.fulfil": "the DPO fulfilled a worker's request",
    "rights.exclusions": "the exclusion list was read, on a signature",
    "union.export": "the representative took the union's copy of the released figures (R25), signed",
    "document.works_agreement": "the representative or the DPO took a copy of the draft works agreement",
    "union.download": "the signed-in representative downloaded the union's copy of the released figures",
    "policy.approved": "both parties (or one, for a narrowing) have approved a version",
}


@dataclass(frozen=True)
class PublicEntry:
    """One audit entry as the public page shows it.

    ``when`` is the UTC time to the second, or the day alone for an entry about one worker;
    ``details`` are (name, value as text) pairs; ``withheld`` says per-worker details were left out.
    """

    seq: int
    when: str
    actor: str
    action: str
    meaning: str
    details: tuple[tuple[str, str], ...]
    withheld: bool


@dataclass(frozen=True)
class AuditPage:
    """One page of the public audit log, newest first, and the verification of the whole chain.

    ``before`` is the entry number this page starts below (None for the newest page); ``older``
    is the ``before`` of the next, older page (None when this page reaches the first entry).
    ``shown_through`` is the last entry recorded before ``held_from`` (today's UTC midnight): no
    page shows a later one until the day has closed.
    """

    entries: tuple[PublicEntry, ...]
    verification: AuditVerification
    before: int | None
    older: int | None
    page_size: int
    shown_through: int
    held_from: dt.datetime


def verify_audit(ws: Workspace) -> AuditVerification:
    """Check the audit log's hash chain from the first entry to the last."""
    return ws.governance.verify_audit()


def audit_entries(ws: Workspace, *, limit: int = 50) -> list[AuditEntry]:
    """The newest ``limit`` audit entries, newest first."""
    return ws.governance.audit_entries(limit=limit)


def audit_page(ws: Workspace, *, before: int | None = None) -> AuditPage:
    """The public audit log's page of entries numbered below ``before`` (the newest page if None).

    Only entries recorded before today's UTC midnight are listed; the verification covers them all.
    """
    held_from = day_start(ws)
    shown_through = ws.governance.audit_seq_before(held_from)
    below = shown_through + 1 if before is None else min(before, shown_through + 1)
    found = ws.governance.audit_entries(limit=AUDIT_PAGE_SIZE + 1, before=below)
    shown = found[:AUDIT_PAGE_SIZE]
    older = shown[-1].seq if len(found) > AUDIT_PAGE_SIZE else None
    return AuditPage(
        tuple(public_entry(entry) for entry in shown),
        ws.governance.verify_audit(),
        before,
        older,
        AUDIT_PAGE_SIZE,
        shown_through,
        held_from,
    )


def public_entry(entry: AuditEntry) -> PublicEntry:
    """An entry as anyone may see it: by day, and without details, when it could describe one worker."""
    shown = _ABOUT_ONE_WORKER.get(entry.action) or _FROM_DATA.get(entry.action)
    if shown is None and entry.action.startswith(_ONE_WORKER_PREFIXES + _FROM_DATA_PREFIXES):
        shown = frozenset()
    details = tuple(
        (name, _signed(value) if name == "signed" else _text(value))
        for name, value in sorted(entry.details.items())
    )
    kept = details if shown is None else tuple(item for item in details if item[0] in shown)
    when = f"{entry.at:%Y-%m-%d %H:%M:%S} UTC" if shown is None else f"{entry.at:%Y-%m-%d}"
    meaning = MEANINGS.get(entry.action, "")
    return PublicEntry(entry.seq, when, entry.actor, entry.action, meaning, kept, len(kept) < len(details))


def _signed(value: object) -> str:
    """A signature record in words: whose key signed (its fingerprint's start), not the signature itself."""
    if not isinstance(value, dict):
        return "malformed"
    signatures = value.get("signatures") or [value.get("signature")]
    keys = [str(s.get("key", ""))[:16] for s in signatures if isinstance(s, dict)]
    return "signed with key " + ", ".join(f"{k}…" for k in keys) if keys else "unsigned"


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class BooksCheck:
    """The books check of one policy period: ``problem`` is empty when they agree."""

    policy_id: str
    period_start: dt.date
    problem: str

    @property
    def ok(self) -> bool:
        """True when the ledger and the kept measurements agree with the audit log."""
        return not self.problem


def verify_books(ws: Workspace) -> list[BooksCheck]:
    """Check every policy period's ledger and kept measurements against the audit log, oldest first.

    The periods are those of every stored policy version, every recorded release and every
    charge the audit log records (a release or a bounds suggestion: so deleting a period's rows
    everywhere else still leaves it checked). Every kept block's noisy values are re-hashed. A
    mismatch is recorded in the audit log by ``check_books``.
    """
    governance = ws.governance
    periods = {
        (info.policy_id, governance.stored_policy(info.policy_id, info.version).policy.period_start)
        for info in governance.policy_versions()
    }
    periods |= {(info.policy_id, info.period_start) for info in governance.releases()}
    total = sum(governance.audit_counts().values())
    for entry in governance.audit_entries(limit=max(total, 1), newest_first=False):
        details = entry.details
        charged = entry.action in ("release.record", "bounds.record")
        if charged and "policy_id" in details and "period_start" in details:
            periods.add((str(details["policy_id"]), dt.date.fromisoformat(str(details["period_start"]))))
    found = []
    for policy_id, period_start in sorted(periods):
        measured = governance.measured_blocks(policy_id, period_start)
        try:
            governance.check_books(policy_id, period_start, using=sorted(measured))
        except BooksMismatch as mismatch:
            found.append(BooksCheck(policy_id, period_start, mismatch.problem))
        else:
            found.append(BooksCheck(policy_id, period_start, ""))
    return found


def verify_store(ws: Workspace) -> list[str]:
    """Problems found in the fact store (files missing, schemas wrong); empty when healthy."""
    return ws.store.verify()
