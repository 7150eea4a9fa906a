"""The policy lifecycle for people: consult, comment, respond, activate, retire, list.

Proposing, approving and suspending are in ``policy.py``. A draft goes to consultation with
``consult``, which computes the planner figures (``planner_figures``) and stores them in the
consultation record; workers ``comment`` (or object), the employer ``respond``s, and both
parties then approve the version together with that record (R5).

In the web app, workers find the proposals open for views with ``open_consultations``, read one
with ``consultation_document`` and give their view with ``worker_view``: one view and one
objection per signed-in worker per proposal, which they can replace. The record holds only a
keyed hash of the worker's pseudonym and the proposal (the key is the pseudonymisation key, kept
outside the data folder), so a view cannot be linked to the worker who gave it; an unsigned view
is recorded as "a worker" and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from teamlens.errors import PolicyError
from teamlens.governance import (
    ConsultationEntry,
    ConsultationRecord,
    NotConsulted,
    PolicyState,
    PolicyVersionInfo,
)
from teamlens.pseudonymise import Pseudonymiser
from teamlens.services.keys import Signer, signed
from teamlens.services.planner_figures import PlannerFigures, planner_figures
from teamlens.services.public_delay import day_start, shown_record
from teamlens.services.rights import SignedInWorker
from teamlens.services.workspace import Workspace

#: How a view from the web form is signed when the worker leaves the signature empty.
ANONYMOUS_WORKER = "a worker"
#: The longest view the web form takes, in characters (a page of text; the record keeps up to 20,000).
WEB_VIEW_MAX = 4_000
_MAX_SIGNATURE = 200
_WHERE_TO_LOOK = (
    "The proposals open for views are listed on the consultation page of the web app (/consultation)."
)


@dataclass(frozen=True)
class ConsultResult:
    """A draft put to consultation, and the planner figures published with it."""

    info: PolicyVersionInfo
    figures: PlannerFigures


def consult(
    ws: Workspace, policy_id: str, version: int, *, by: Signer, actor: str, today: dt.date | None = None
) -> ConsultResult:
    """Publish a draft to workers with its planner figures; views are taken until the first signature."""
    stored = ws.governance.stored_policy(policy_id, version)
    figures = planner_figures(ws, stored.policy, today=today)
    decision = signed(ws, by, "policy.consult", policy_id, version)
    info = ws.governance.consult(policy_id, version, decision, actor, figures.to_json())
    return ConsultResult(info, figures)


def comment(
    ws: Workspace, policy_id: str, version: int, *, text: str, author: str = "", objection: bool = False
) -> ConsultationEntry:
    """Record a worker's comment (or objection to the proposal) on a version in consultation."""
    kind = "objection" if objection else "comment"
    return ws.governance.add_view(policy_id, version, kind, author, text)


@dataclass(frozen=True)
class OpenConsultation:
    """A proposal open for workers' views: its version record and its consultation record so far."""

    info: PolicyVersionInfo
    record: ConsultationRecord


def open_consultations(ws: Workspace) -> list[OpenConsultation]:
    """Every policy version now in consultation, without the views given today (``public_delay``)."""
    since = day_start(ws)
    return [
        OpenConsultation(info, shown_record(ws.governance.consultation(info.policy_id, info.version), since))
        for info in ws.governance.policy_versions()
        if info.state is PolicyState.CONSULTATION
    ]


def open_consultation(ws: Workspace, policy_id: str, version: int) -> OpenConsultation:
    """One proposal open for views; a ``PolicyError`` saying so when the version is not in consultation."""
    found = [info for info in ws.governance.policy_versions(policy_id) if info.version == version]
    if not found:
        raise PolicyError(f"There is no policy '{policy_id}' version {version}.", _WHERE_TO_LOOK)
    info = found[0]
    if info.state is not PolicyState.CONSULTATION:
        raise PolicyError(
            f"Policy '{policy_id}' version {version} is not in consultation (it is {info.state.value}), "
            "so views are not taken on it.",
            f"{_WHERE_TO_LOOK} Raise anything else with your representatives.",
        )
    return OpenConsultation(info, ws.governance.consultation(policy_id, version))


def consultation_document(ws: Workspace, policy_id: str, version: int) -> str:
    """The consultation page (proposal, planner figures, views so far) of a version open for views.

    Views given today (UTC) are left out, with their count and their share of the record's hash,
    until the day has closed (``public_delay``); ``teamlens docs consultation`` shows them all.
    """
    open_consultation(ws, policy_id, version)
    from teamlens.services.documents import build_document, render  # renders charts: loaded when needed

    context = build_document(ws, "consultation", policy_id=policy_id, version=version)
    return render("consultation", replace(context, record=shown_record(context.record, day_start(ws))))


def worker_view(
    ws: Workspace,
    worker: SignedInWorker,
    policy_id: str,
    version: int,
    *,
    text: str,
    signature: str = "",
    objection: bool = False,
) -> bool:
    """Record (or replace) a signed-in worker's one view, signed as they typed it or as "a worker".

    Returns True when it replaced their earlier view of that kind. Only a keyed hash of the
    worker and the proposal is kept with it (module docstring); the audit entry counts views.
    """
    open_consultation(ws, policy_id, version)
    text = text.replace("\r\n", "\n")  # browsers send a text area's line breaks as CRLF
    if not text.strip():
        raise PolicyError("Your view is empty: nothing was recorded.", "Write it in the box, then send it.")
    if len(text) > WEB_VIEW_MAX:
        raise PolicyError(
            f"Your view is {len(text):,} characters long; this form takes at most {WEB_VIEW_MAX:,}. "
            "Nothing was recorded.",
            "Shorten it, or send it in two parts.",
        )
    signature = " ".join(signature.split())
    if len(signature) > _MAX_SIGNATURE:
        raise PolicyError(
            f"Your signature is {len(signature)} characters long; at most {_MAX_SIGNATURE} are kept. "
            "Nothing was recorded.",
            f'Shorten it, or leave it empty to send your view as "{ANONYMOUS_WORKER}".',
        )
    author = signature or ANONYMOUS_WORKER
    kind = "objection" if objection else "comment"
    voter = voter_of(ws.pseudonymiser(), policy_id, version, worker.pseudonym)
    return ws.governance.give_view(policy_id, version, kind, voter, author, text)


def respond(
    ws: Workspace, policy_id: str, version: int, *, by: Signer, author: str, text: str
) -> ConsultationEntry:
    """Record the employer's signed response to the views (only the employer's key may sign it)."""
    decision = signed(ws, by, "consultation.response", policy_id, version, text=text)
    return ws.governance.respond(policy_id, version, decision, author, text)


def not_consulted(
    ws: Workspace, policy_id: str, version: int, *, by: Signer, author: str, reason: str
) -> NotConsulted:
    """Record why the employer did not consult on a draft (R5, signed); the DPIA then shows the reasons."""
    decision = signed(ws, by, "consultation.not_consulted", policy_id, version, text=reason)
    return ws.governance.record_not_consulted(policy_id, version, decision, author, reason)


def consultation(ws: Workspace, policy_id: str, version: int) -> ConsultationRecord:
    """The consultation record of one version: publication, views and responses."""
    return ws.governance.consultation(policy_id, version)


def activate(ws: Workspace, policy_id: str, version: int, *, by: Signer, actor: str) -> PolicyVersionInfo:
    """Start a version both parties approved that waited while another policy was in force (signed)."""
    info = ws.governance.activate(
        policy_id, version, signed(ws, by, "policy.activate", policy_id, version), actor
    )
    from teamlens.services.documents import record_notice_version

    record_notice_version(ws, policy_id, version, actor=actor)
    return info


def retire(ws: Workspace, policy_id: str, version: int, *, by: Signer, actor: str) -> PolicyVersionInfo:
    """End a version for good (or withdraw a draft); either party's signature suffices."""
    return ws.governance.retire(
        policy_id, version, signed(ws, by, "policy.retire", policy_id, version), actor
    )


def versions(ws: Workspace, policy_id: str | None = None) -> list[PolicyVersionInfo]:
    """Every stored policy version with its state and missing approvals."""
    return ws.governance.policy_versions(policy_id)


def voter_of(pseudonymise: Pseudonymiser, policy_id: str, version: int, pseudonym: str) -> str:
    """The slot a worker's one view on a proposal is kept under: a keyed hash, moved by a key rotation."""
    return pseudonymise(f"view|{policy_id}|{version}|{pseudonym}")
