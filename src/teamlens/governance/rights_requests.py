"""Requests to act on one worker's data (R20–R22), and who may act on them.

A request is made either by the worker, signed in at ``/me`` (``origin = "worker"``), or off line
by the DPO for a request the worker made some other way (``origin = "offline"``), in which case
it counts only once the representative has countersigned it: both signatures are in the audit
log (``rights.request``). The DPO then fulfils it with a signature of their own
(``rights.fulfil``), and only then does ``fulfil`` hand out the worker's pseudonym. Nobody acts
on a worker's data by naming them. The table holds the pseudonym; the audit log never does.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from teamlens.errors import AccessDenied, PolicyError
from teamlens.governance import audit_log, decisions, signed_history
from teamlens.governance.records import SignedDecision
from teamlens.governance.tables import as_utc, rights_requests

KINDS = ("access", "erase", "object")
#: What a signed-in worker's own request is logged as (it carries no party's signature).
WORKER_REQUEST = "rights.worker_request"


@dataclass(frozen=True)
class RightsRequest:
    """One request as the DPO's list shows it: never who it is about."""

    request_id: str
    kind: str
    origin: str
    reference: str | None
    state: str
    created_at: dt.datetime


def _info(row: sa.Row[tuple[object, ...]]) -> RightsRequest:
    return RightsRequest(
        str(row.request_id),
        str(row.kind),
        str(row.origin),
        None if row.reference is None else str(row.reference),
        str(row.state),
        as_utc(row.created_at),
    )


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise PolicyError(f"'{kind}' is not a kind of request.", f"Kinds: {', '.join(KINDS)}.")
    return kind


def from_worker(conn: sa.Connection, pseudonym: str, kind: str, now: dt.datetime) -> RightsRequest:
    """Record a request the signed-in worker made themself (no one else can make it for them)."""
    request_id = secrets.token_hex(8)
    conn.execute(
        rights_requests.insert().values(
            request_id=request_id,
            kind=_kind(kind),
            origin="worker",
            pseudonym=pseudonym,
            state="open",
            created_at=now,
            changed_at=now,
        )
    )
    audit_log.append(
        conn, now, "worker (signed in)", WORKER_REQUEST, {"request_id": request_id, "kind": kind}
    )
    return get(conn, request_id)


def new_offline_id() -> str:
    """A fresh request id for an off-line request (the DPO's signature names it)."""
    return secrets.token_hex(8)


def offline(
    conn: sa.Connection,
    pseudonym: str,
    kind: str,
    reference: str,
    signed: SignedDecision,
    actor: str,
    now: dt.datetime,
) -> RightsRequest:
    """Record the DPO's signed off-line request; it waits for the representative's countersignature."""
    request_id = str(signed.statement.get("request_id", ""))
    proof = decisions.accept(conn, signed, "rights.request", now, kind=_kind(kind))
    if signed.party != "dpo":
        raise AccessDenied("An off-line request is opened by the DPO.", "The representative countersigns it.")
    conn.execute(
        rights_requests.insert().values(
            request_id=request_id,
            kind=kind,
            origin="offline",
            pseudonym=pseudonym,
            reference=reference,
            state="open",
            created_at=now,
            changed_at=now,
        )
    )
    details = {"request_id": request_id, "kind": kind, "origin": "offline", **proof}
    audit_log.append(conn, now, actor, "rights.request", details)
    return get(conn, request_id)


def countersign(conn: sa.Connection, signed: SignedDecision, actor: str, now: dt.datetime) -> RightsRequest:
    """Record the representative's countersignature on an off-line request."""
    found = get(conn, str(signed.statement.get("request_id", "")))
    proof = decisions.accept(
        conn, signed, "rights.request", now, request_id=found.request_id, kind=found.kind
    )
    if signed.party != "representative" or found.origin != "offline":
        raise AccessDenied(
            "Only the representative countersigns, and only an off-line request the DPO opened.",
            "A request a worker made at /me needs no countersignature.",
        )
    conn.execute(
        rights_requests.update()
        .where(rights_requests.c.request_id == found.request_id)
        .values(state="countersigned", changed_at=now)
    )
    details = {"request_id": found.request_id, "kind": found.kind, "origin": "offline", **proof}
    audit_log.append(conn, now, actor, "rights.request", details)
    return get(conn, found.request_id)


def fulfil(
    conn: sa.Connection, signed: SignedDecision, actor: str, now: dt.datetime
) -> tuple[RightsRequest, str]:
    """The DPO's signed fulfilment of a request: returns it and the worker's pseudonym, once."""
    request_id = str(signed.statement.get("request_id", ""))
    found = get(conn, request_id)
    proof = decisions.accept(conn, signed, "rights.fulfil", now, request_id=request_id)
    if found.state in ("done", "withdrawn"):
        raise PolicyError(f"Request {request_id} is {found.state}.", "A request is fulfilled once.")
    if found.origin == "offline":
        signers = signed_history.read(conn).requests.get(request_id, set())
        if not {"dpo", "representative"} <= signers:
            raise AccessDenied(
                f"Off-line request {request_id} lacks the representative's countersignature, so the DPO "
                "may not act on it alone.",
                f"The representative runs `teamlens rights countersign {request_id} --key THEIR-KEY`.",
            )
    row = conn.execute(sa.select(rights_requests).where(rights_requests.c.request_id == request_id)).one()
    conn.execute(
        rights_requests.update()
        .where(rights_requests.c.request_id == request_id)
        .values(state="done", changed_at=now)
    )
    details = {"request_id": request_id, "kind": found.kind, "origin": found.origin, **proof}
    audit_log.append(conn, now, actor, "rights.fulfil", details)
    return found, str(row.pseudonym)


def get(conn: sa.Connection, request_id: str) -> RightsRequest:
    """One request, or a PolicyError naming how to list them."""
    row = conn.execute(
        sa.select(rights_requests).where(rights_requests.c.request_id == request_id)
    ).one_or_none()
    if row is None:
        raise PolicyError(f"There is no request '{request_id}'.", "`teamlens rights requests` lists them.")
    return _info(row)


def listed(conn: sa.Connection, pseudonym: str | None = None) -> list[RightsRequest]:
    """Every request (only one worker's with ``pseudonym``), newest first, without who it is about."""
    query = sa.select(rights_requests).order_by(rights_requests.c.created_at.desc())
    if pseudonym is not None:
        query = query.where(rights_requests.c.pseudonym == pseudonym)
    return [_info(row) for row in conn.execute(query)]
