"""Workers' rights as use cases (R20–R22): access export, erasure, rectification, objection.

There are two ways in, and only two. A worker acts for themself through the web app, signed in
through the organisation's identity provider: the web session hands these functions a
:class:`SignedInWorker`, which carries their pseudonym and nothing else (``own_data``,
``own_export``, ``object_to_processing``, ``worker_request``). The DPO acts on one worker's data
only on a request: one the worker made at ``/me`` (``worker_request``), or one made off line that
the DPO opens with their signature and the representative countersigns with theirs
(``offline_request``, ``countersign_request``); the DPO then fulfils it with a signature too
(``fulfil_request``). No role named on the command line grants anything: every step needs the
key the key set records for that party (``keys``). An address is turned into the worker's
pseudonym with the installation's key exactly as ingestion does, and is never stored.

``fulfil_request`` writes everything held about the worker for an access request (see
``access_export.py``), erases their facts and directory rows for an erasure (released noisy
figures are not "un-released"), or records their objection; rectification is re-ingesting a
corrected HR directory. An objection excludes them from every window that starts after it
(R22). The exclusion list is shown only to the DPO and the representative, on their signature,
and a worker sees their own entry on their page.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from teamlens.errors import AccessDenied, InternalError
from teamlens.governance import RightsRequest
from teamlens.services.access_export import (
    HeldData,
    ReleaseEntered,
    export_files,
    gather,
    write_files,
    zip_files,
)
from teamlens.services.exclusions import Exclusion, effective_from, own_exclusion
from teamlens.services.keys import Signer, signed_fresh
from teamlens.services.workspace import Workspace

#: Where a worker gets their own data: the web app's page, after signing in.
OWN_PAGE_HINT = "Workers get their own data by signing in to the teamlens web app at /me."
#: The audit log's actor for anything a signed-in worker does (never their address or pseudonym).
WORKER_ACTOR = "worker (signed in)"
_MAX_REFERENCE = 120


@dataclass(frozen=True)
class SignedInWorker:
    """A worker the web app signed in through the identity provider: their pseudonym, nothing else."""

    pseudonym: str


@dataclass(frozen=True)
class Fulfilled:
    """A request the DPO fulfilled: its kind, and counts only (the files hold any data).

    ``folder`` is where an access export was written; ``removed`` the rows an erasure removed.
    """

    request: RightsRequest
    folder: Path | None = None
    facts: int = 0
    removed: int = 0
    releases: tuple[ReleaseEntered, ...] = ()


def _reference(request: str) -> str:
    """The worker's request reference, checked: present, short, and not an e-mail address."""
    reference = request.strip()
    if not reference or len(reference) > _MAX_REFERENCE or "@" in reference:
        raise AccessDenied(
            "An off-line request needs the reference of the worker's verified request "
            f"(1 to {_MAX_REFERENCE} characters, not an e-mail address: it goes into the audit log).",
            "Give your case or ticket number with --reference, e.g. --reference SAR-2026-014.",
        )
    return reference


def pseudonym_of(ws: Workspace, email: str) -> str:
    """The worker's pseudonym under this installation's key, as ingestion computes it."""
    return ws.pseudonymiser()(email)


def own_data(ws: Workspace, worker: SignedInWorker) -> HeldData:
    """Everything held about the signed-in worker, for their own page."""
    return gather(ws, worker.pseudonym)


def own_export(ws: Workspace, worker: SignedInWorker) -> bytes:
    """The signed-in worker's access export (R20) as a zip archive built in memory; audited."""
    held = gather(ws, worker.pseudonym)
    archive = zip_files(export_files(held))
    _audit_access(ws, WORKER_ACTOR, held, {"requested_by": "worker", "channel": "web"})
    return archive


def _audit_access(ws: Workspace, actor: str, held: HeldData, details: dict[str, object]) -> None:
    counts = {"facts": len(held.facts), "releases": len(held.releases)}
    ws.governance.append_audit(actor, "rights.access", {**details, **counts})


def object_to_processing(ws: Workspace, worker: SignedInWorker) -> Exclusion:
    """Record the signed-in worker's objection (Art 21): left out of every window from the next one on."""
    ws.governance.record_objection(worker.pseudonym, WORKER_ACTOR)
    return own_exclusion(ws, worker.pseudonym) or _missing()


def worker_request(ws: Workspace, worker: SignedInWorker, kind: str) -> RightsRequest:
    """Record a request the signed-in worker makes of the DPO (an erasure, say); only they can make it."""
    return ws.governance.worker_request(worker.pseudonym, kind)


def my_requests(ws: Workspace, worker: SignedInWorker) -> list[RightsRequest]:
    """The requests the signed-in worker made, newest first."""
    return ws.governance.rights_requests(worker.pseudonym)


def offline_request(
    ws: Workspace, email: str, kind: str, *, reference: str, by: Signer, actor: str
) -> RightsRequest:
    """Open an off-line request for a worker, signed by the DPO; it waits for the representative."""
    reference = _reference(reference)
    decision = signed_fresh(ws, by, "rights.request", request_id=secrets.token_hex(8), kind=kind)
    return ws.governance.offline_request(pseudonym_of(ws, email), kind, reference, decision, actor)


def countersign_request(ws: Workspace, request_id: str, *, by: Signer, actor: str) -> RightsRequest:
    """The representative's countersignature on an off-line request (after checking it with the worker)."""
    kind = next((r.kind for r in ws.governance.rights_requests() if r.request_id == request_id), "")
    decision = signed_fresh(ws, by, "rights.request", request_id=request_id, kind=kind)
    return ws.governance.countersign_request(decision, actor)


def fulfil_request(
    ws: Workspace, request_id: str, *, by: Signer, actor: str, out: Path | None = None
) -> Fulfilled:
    """The DPO carries out a request (export to ``out``, erase, or object), with their signature."""
    decision = signed_fresh(ws, by, "rights.fulfil", request_id=request_id)
    kind = next((r.kind for r in ws.governance.rights_requests() if r.request_id == request_id), "")
    if kind == "access" and out is None:
        raise AccessDenied("An access request is fulfilled into a folder.", "Pass --out FOLDER.")
    request, pseudonym = ws.governance.fulfil_request(decision, actor)
    if request.kind == "access":
        if out is None:
            raise InternalError("an access request was fulfilled without a folder to write to")
        held = gather(ws, pseudonym)
        write_files(export_files(held), out)
        return Fulfilled(request, out, len(held.facts), 0, held.releases)
    if request.kind == "erase":
        removed = ws.store.erase_person(pseudonym)
        ws.governance.append_audit(actor, "rights.erase", {"request_id": request_id, "rows_removed": removed})
        return Fulfilled(request, removed=removed)
    ws.governance.record_objection(pseudonym, actor)
    return Fulfilled(request)


def requests(ws: Workspace) -> list[RightsRequest]:
    """Every request, newest first, never naming who it is about (for the DPO's list)."""
    return ws.governance.rights_requests()


def exclusion_list(ws: Workspace, *, by: Signer) -> list[Exclusion]:
    """The whole exclusion list, for the DPO and the representative only, on their signature (R22)."""
    ws.governance.accept_decision(
        signed_fresh(ws, by, "rights.exclusions", purpose="exclusions"), "rights.exclusions"
    )
    return [Exclusion(p, at, effective_from(ws, at)) for p, at in ws.governance.objections()]


def _missing() -> Exclusion:
    raise InternalError("an objection was recorded but is not on the exclusion list")
