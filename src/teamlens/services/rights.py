"""Workers' rights as use cases (R20–R22): access export, erasure, rectification, objection.

There are two ways in, and only two. A worker acts for themself through the web app, signed in
through the organisation's identity provider: the web session hands these functions a
:class:`SignedInWorker`, which carries their pseudonym and nothing else (``own_data``,
``own_export``, ``object_to_processing``). The DPO or the auditing representative acts for a
worker on the worker's verified request, naming the worker by e-mail address and giving the
request's reference, which the audit log records (``access_export``, ``erase``,
``object_to_processing``). Nobody can claim the worker role by saying so: a role given as text
is never the worker's. An address is turned into the worker's pseudonym with the installation's
key exactly as ingestion does, and is never stored.

``access_export`` writes everything held about one worker (see ``access_export.py``) to a
folder; ``own_export`` zips the same files in memory. ``erase`` removes their facts and
directory rows (released noisy figures are not "un-released"); rectification is re-ingesting a
corrected HR directory. ``object_to_processing`` excludes them from every window that starts
after the objection (R22). The exclusion list is shown only to the DPO and the auditing
representative, and a worker sees their own entry on their page: the check is here, in the
service layer, whatever interface calls it.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from pathlib import Path

from teamlens.errors import AccessDenied, InternalError
from teamlens.services.access_export import (
    HeldData,
    ReleaseEntered,
    export_files,
    gather,
    write_files,
    zip_files,
)
from teamlens.services.exclusions import Exclusion, effective_from, own_exclusion
from teamlens.services.workspace import Workspace

#: Where a worker gets their own data: the web app's page, after signing in.
OWN_PAGE_HINT = "Workers get their own data by signing in to the teamlens web app at /me."
#: The audit log's actor for anything a signed-in worker does (never their address or pseudonym).
WORKER_ACTOR = "worker (signed in)"
_MAX_REFERENCE = 120


class Role(enum.StrEnum):
    """Who is asking, as far as the rights services are concerned."""

    WORKER = "worker"  # the worker the request is about: only ever a SignedInWorker
    DPO = "dpo"
    REPRESENTATIVE = "representative"  # the auditing representative
    ANALYST = "analyst"
    CONTROLLER = "controller"
    ADMIN = "admin"


@dataclass(frozen=True)
class SignedInWorker:
    """A worker the web app signed in through the identity provider: their pseudonym, nothing else."""

    pseudonym: str


@dataclass(frozen=True)
class AccessExport:
    """Where the export was written and what it holds (counts only; the files hold the data)."""

    folder: Path
    facts: int
    directory_rows: int
    releases: tuple[ReleaseEntered, ...]
    objected_at: dt.datetime | None


#: Who may act for a worker on their verified request (R20: a representative or the DPO).
_FOR_THE_WORKER = frozenset({Role.DPO, Role.REPRESENTATIVE})
#: Who may see the exclusion list (R22); a worker sees only their own entry, on their page.
_SEE_EXCLUSIONS = frozenset({Role.DPO, Role.REPRESENTATIVE})


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccessDenied(
            f"'{role}' is not a role teamlens knows.", f"Roles are: {', '.join(r.value for r in Role)}."
        ) from None


def _require(role: Role | str, allowed: frozenset[Role], what: str) -> Role:
    checked = _role(role)
    if checked is Role.WORKER and Role.WORKER not in allowed:
        raise AccessDenied(
            f"The worker role cannot {what} here: a role given as text proves nothing about who asks.",
            OWN_PAGE_HINT,
        )
    if checked not in allowed:
        names = ", ".join(sorted(r.value for r in allowed))
        raise AccessDenied(f"The {checked.value} role may not {what}.", f"Only these roles may: {names}.")
    return checked


def _reference(request: str) -> str:
    """The worker's request reference, checked: present, short, and not an e-mail address."""
    reference = request.strip()
    if not reference or len(reference) > _MAX_REFERENCE or "@" in reference:
        raise AccessDenied(
            "Acting for a worker needs the reference of their verified request "
            f"(1 to {_MAX_REFERENCE} characters, not an e-mail address: it goes into the audit log).",
            "Give your case or ticket number with --request, e.g. --request SAR-2026-014.",
        )
    return reference


def pseudonym_of(ws: Workspace, email: str) -> str:
    """The worker's pseudonym under this installation's key, as ingestion computes it."""
    return ws.pseudonymiser()(email)


def access_export(
    ws: Workspace, email: str, out: Path, *, actor: str, role: Role | str, request: str
) -> AccessExport:
    """Write everything held about a worker to ``out``, for the DPO or a representative on their request."""
    checked = _require(role, _FOR_THE_WORKER, "export a worker's data")
    reference = _reference(request)
    held = gather(ws, pseudonym_of(ws, email))
    write_files(export_files(held), out)
    _audit_access(ws, actor, held, {"requested_by": checked.value, "request": reference, "channel": "cli"})
    objected = None if held.objection is None else held.objection.recorded_at
    return AccessExport(out, len(held.facts), len(held.directory), held.releases, objected)


def own_data(ws: Workspace, worker: SignedInWorker) -> HeldData:
    """Everything held about the signed-in worker, for their own page."""
    return gather(ws, worker.pseudonym)


def own_export(ws: Workspace, worker: SignedInWorker) -> bytes:
    """The signed-in worker's access export (R20) as a zip archive built in memory; audited."""
    held = gather(ws, worker.pseudonym)
    archive = zip_files(export_files(held))
    _audit_access(ws, WORKER_ACTOR, held, {"requested_by": Role.WORKER.value, "channel": "web"})
    return archive


def _audit_access(ws: Workspace, actor: str, held: HeldData, details: dict[str, object]) -> None:
    counts = {"facts": len(held.facts), "releases": len(held.releases)}
    ws.governance.append_audit(actor, "rights.access", {**details, **counts})


def object_to_processing(
    ws: Workspace,
    worker: SignedInWorker | str,
    *,
    actor: str,
    role: Role | str = Role.WORKER,
    request: str | None = None,
) -> Exclusion:
    """Record a worker's objection (Art 21): they are left out of every window from the next one on.

    ``worker`` is the signed-in worker, or the worker's e-mail address when the DPO or the
    representative records the objection on their request (``request`` is then recorded too).
    """
    if isinstance(worker, SignedInWorker):
        if _role(role) is not Role.WORKER:
            raise InternalError("a signed-in worker's objection was recorded under another role")
        person, actor = worker.pseudonym, WORKER_ACTOR
    else:
        checked = _require(role, _FOR_THE_WORKER, "record an objection for a worker")
        reference = None if request is None else _reference(request)
        person = pseudonym_of(ws, worker)
        if reference is not None:
            ws.governance.append_audit(
                actor, "rights.object", {"requested_by": checked.value, "request": reference}
            )
    ws.governance.record_objection(person, actor)
    return own_exclusion(ws, person) or _missing()


def exclusion_list(ws: Workspace, *, role: Role | str) -> list[Exclusion]:
    """The whole exclusion list, for the DPO and the auditing representative only (R22)."""
    _require(role, _SEE_EXCLUSIONS, "see the exclusion list")
    return [Exclusion(p, at, effective_from(ws, at)) for p, at in ws.governance.objections()]


def erase(ws: Workspace, email: str, *, actor: str, role: Role | str, request: str | None = None) -> int:
    """Erase a worker's facts and directory rows (Art 17); returns how many rows were removed."""
    checked = _require(role, _FOR_THE_WORKER | {Role.ADMIN}, "erase a worker's data")
    details: dict[str, object] = {"requested_by": checked.value}
    if request is not None:
        details["request"] = _reference(request)
    removed = ws.store.erase_person(pseudonym_of(ws, email))
    ws.governance.append_audit(actor, "rights.erase", {"rows_removed": removed, **details})
    return removed


def _missing() -> Exclusion:
    raise InternalError("an objection was recorded but is not on the exclusion list")
