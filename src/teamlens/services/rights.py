"""Workers' rights as commands (R20–R22): access export, erasure, rectification, objection.

A worker is found by their e-mail address, turned into their pseudonym with the installation's
key exactly as ingestion does; the address itself is never stored. ``access_export`` writes
everything held about one worker (their facts, their directory rows, their objection, the policy
versions that applied) and every release their data entered — the releases whose report level
and windows placed them in a group's population at a window's start, as the release engine does
— as JSON, CSV and a readable summary. It is run by or for the worker (a representative or the
DPO may run it on their behalf). ``erase`` removes their facts and directory rows (released noisy
figures are not "un-released"); rectification is re-ingesting a corrected HR directory.
``object`` excludes them from every window that starts after the objection (R22). The exclusion
list is shown only to the worker concerned, the DPO and the auditing representative: the check
is here, in the service layer, whatever interface calls it.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from teamlens.domain import GroupLevel, Window, monday_of
from teamlens.errors import AccessDenied, InternalError
from teamlens.governance import PolicyState
from teamlens.privacy import rho_to_epsilon
from teamlens.services.workspace import Workspace


class Role(enum.StrEnum):
    """Who is asking, as far as the rights services are concerned."""

    WORKER = "worker"  # the worker the request is about
    DPO = "dpo"
    REPRESENTATIVE = "representative"  # the auditing representative
    ANALYST = "analyst"
    CONTROLLER = "controller"
    ADMIN = "admin"


#: Who may act for a worker (R20: self-service, or a representative or the DPO on their behalf).
_FOR_THE_WORKER = frozenset({Role.WORKER, Role.DPO, Role.REPRESENTATIVE})
#: Who may see the exclusion list (R22); a worker sees only their own entry.
_SEE_EXCLUSIONS = frozenset({Role.DPO, Role.REPRESENTATIVE})


@dataclass(frozen=True)
class ReleaseEntered:
    """One release cell set a worker's data entered: which report, window and group."""

    release_id: str
    policy_id: str
    policy_version: int
    report_id: str
    level: str
    group: str
    window: str
    metrics: tuple[str, ...]
    mechanism: str
    rho: float
    epsilon: float
    released_at: str


@dataclass(frozen=True)
class AccessExport:
    """Where the export was written and what it holds (counts only; the files hold the data)."""

    folder: Path
    facts: int
    directory_rows: int
    releases: tuple[ReleaseEntered, ...]
    objected_at: dt.datetime | None


@dataclass(frozen=True)
class Exclusion:
    """One entry of the exclusion list: a pseudonym, and from which window start it applies."""

    pseudonym: str
    recorded_at: dt.datetime
    effective_from: dt.date


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccessDenied(
            f"'{role}' is not a role teamlens knows.", f"Roles are: {', '.join(r.value for r in Role)}."
        ) from None


def _require(role: Role | str, allowed: frozenset[Role], what: str) -> Role:
    checked = _role(role)
    if checked not in allowed:
        names = ", ".join(sorted(r.value for r in allowed))
        raise AccessDenied(f"The {checked.value} role may not {what}.", f"Only these roles may: {names}.")
    return checked


def pseudonym_of(ws: Workspace, email: str) -> str:
    """The worker's pseudonym under this installation's key, as ingestion computes it."""
    return ws.pseudonymiser()(email)


def effective_from(recorded_at: dt.datetime) -> dt.date:
    """The first window start an objection applies to: the Monday after the day it was recorded."""
    return monday_of(recorded_at.astimezone(dt.UTC).date()) + dt.timedelta(days=7)


def object_to_processing(
    ws: Workspace, email: str, *, actor: str, role: Role | str = Role.WORKER
) -> Exclusion:
    """Record a worker's objection (Art 21): they are left out of every window from the next one on."""
    _require(role, _FOR_THE_WORKER, "record an objection for a worker")
    person = pseudonym_of(ws, email)
    ws.governance.record_objection(person, actor)
    return _own_exclusion(ws, person) or _missing()


def exclusion_list(ws: Workspace, *, role: Role | str, email: str | None = None) -> list[Exclusion]:
    """The exclusion list: all of it for the DPO and the auditing representative, one's own for a worker."""
    checked = _role(role)
    if checked is Role.WORKER:
        if email is None:
            raise AccessDenied("A worker sees only their own entry.", "Give your e-mail address.")
        own = _own_exclusion(ws, pseudonym_of(ws, email))
        return [own] if own else []
    _require(checked, _SEE_EXCLUSIONS, "see the exclusion list")
    return [Exclusion(p, at, effective_from(at)) for p, at in ws.governance.objections()]


def erase(ws: Workspace, email: str, *, actor: str, role: Role | str = Role.WORKER) -> int:
    """Erase a worker's facts and directory rows (Art 17); returns how many rows were removed."""
    _require(role, _FOR_THE_WORKER | {Role.ADMIN}, "erase a worker's data")
    removed = ws.store.erase_person(pseudonym_of(ws, email))
    ws.governance.append_audit(
        actor, "rights.erase", {"rows_removed": removed, "requested_by": _role(role).value}
    )
    return removed


def access_export(
    ws: Workspace, email: str, out: Path, *, actor: str, role: Role | str = Role.WORKER
) -> AccessExport:
    """Write everything held about one worker, and every release their data entered, to ``out`` (R20)."""
    checked = _require(role, _FOR_THE_WORKER, "export a worker's data")
    person = pseudonym_of(ws, email)
    facts = ws.store.person_facts(person).to_pylist()
    directory = ws.store.person_directory(person).to_pylist()
    own = _own_exclusion(ws, person)
    entered = _releases_entered(ws, directory, {row["day"] for row in facts}, own)
    out.mkdir(parents=True, exist_ok=True)
    shown_directory = [_without_others(row) for row in directory]
    fact_rows = [{k: v for k, v in row.items() if k != "person"} for row in facts]
    release_rows = [asdict(entry) for entry in entered]
    document: dict[str, Any] = {
        "about": {"email": email, "pseudonym": person},
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "facts": fact_rows,
        "directory": shown_directory,
        "objection": None
        if own is None
        else {"recorded_at": own.recorded_at, "effective_from": own.effective_from},
        "releases_entered": release_rows,
        "policies": [
            {"policy_id": v.policy_id, "version": v.version, "state": v.state.value, "sha256": v.sha256}
            for v in ws.governance.policy_versions()
            if v.state not in (PolicyState.DRAFT, PolicyState.CONSULTATION, PolicyState.PROPOSED)
        ],
    }
    (out / "my-data.json").write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
    _csv(out / "my-facts.csv", ["day", "days", "metric", "value", "source"], fact_rows)
    _csv(out / "my-releases.csv", list(ReleaseEntered.__dataclass_fields__), release_rows)
    (out / "summary.txt").write_text(_summary(email, facts, shown_directory, entered, own), encoding="utf-8")
    ws.governance.append_audit(
        actor,
        "rights.access",
        {"requested_by": checked.value, "facts": len(facts), "releases": len(entered)},
    )
    return AccessExport(out, len(facts), len(directory), entered, None if own is None else own.recorded_at)


def _releases_entered(
    ws: Workspace, directory: list[dict[str, Any]], fact_days: set[dt.date], own: Exclusion | None
) -> tuple[ReleaseEntered, ...]:
    computed = ws.governance.released_windows()
    organisation = ws.store.groups(GroupLevel.ORGANISATION.value)[0]
    entered = []
    for release in ws.governance.releases():
        policy = ws.governance.stored_policy(release.policy_id, release.policy_version).policy
        report = policy.report(release.report_id)
        for key in sorted(computed.get(release.release_id, ())):
            window = Window.parse(key)
            if own is not None and own.recorded_at.date() < window.start:
                continue  # left out of windows that started after the objection
            group = _group_at(directory, report.level, window.start)
            in_facts = any(window.start <= day < window.end for day in fact_days)
            if group is None and report.level is GroupLevel.ORGANISATION and in_facts:
                group = organisation
            if group is None:
                continue
            entered.append(
                ReleaseEntered(
                    release_id=release.release_id,
                    policy_id=release.policy_id,
                    policy_version=release.policy_version,
                    report_id=release.report_id,
                    level=report.level.value,
                    group=group,
                    window=key,
                    metrics=release.metrics,
                    mechanism="discrete Gaussian (zCDP), OpenDP",
                    rho=float(release.rho.value),
                    epsilon=rho_to_epsilon(release.rho, policy.delta),
                    released_at=release.released_at.isoformat(timespec="seconds"),
                )
            )
    return tuple(entered)


def _group_at(directory: list[dict[str, Any]], level: GroupLevel, day: dt.date) -> str | None:
    """The worker's group at ``day`` as the store places them: their latest row valid then."""
    valid = [
        row
        for row in directory
        if row["valid_from"] <= day and (row["valid_to"] is None or day < row["valid_to"])
    ]
    if not valid:
        return None
    latest = max(valid, key=lambda row: row["valid_from"])
    if level is GroupLevel.ORGANISATION:
        return "Organisation"
    value = latest.get(level.value)
    return None if value is None else str(value)


def _own_exclusion(ws: Workspace, person: str) -> Exclusion | None:
    for pseudonym, at in ws.governance.objections():
        if pseudonym == person:
            return Exclusion(pseudonym, at, effective_from(at))
    return None


def _missing() -> Exclusion:
    raise InternalError("an objection was recorded but is not on the exclusion list")


def _without_others(row: dict[str, Any]) -> dict[str, Any]:
    # The manager column holds another worker's pseudonym: say that it is recorded, not what it is.
    shown = {k: v for k, v in row.items() if k not in ("person", "manager")}
    shown["manager"] = "recorded (pseudonymised)" if row.get("manager") else None
    return shown


def _csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _summary(
    email: str,
    facts: list[dict[str, Any]],
    directory: list[dict[str, Any]],
    entered: tuple[ReleaseEntered, ...],
    own: Exclusion | None,
) -> str:
    lines = [
        f"Everything teamlens holds about {email}",
        "",
        f"Weekly counts held: {len(facts)} (my-facts.csv). They are deleted automatically after the",
        "policy's retention period.",
        f"HR directory entries: {len(directory)} (my-data.json, 'directory').",
    ]
    for row in directory:
        lines.append(
            f"  from {row['valid_from']} to {row['valid_to'] or 'now'}: team {row.get('team')}, "
            f"department {row.get('department')}, division {row.get('division')}"
        )
    lines += ["", f"Releases your data entered: {len(entered)} (my-releases.csv)."]
    for entry in entered:
        lines.append(
            f"  {entry.released_at} {entry.report_id} {entry.window}: {entry.level} '{entry.group}' "
            f"(rho {entry.rho:.4g})"
        )
    lines.append("")
    if own is None:
        lines.append("You have not objected. To object: teamlens rights object YOUR-EMAIL")
    else:
        lines.append(
            f"You objected on {own.recorded_at:%Y-%m-%d}; you are left out of every window from "
            f"{own.effective_from} on."
        )
    lines += ["", "Published figures are group averages with noise; none of them is about you alone."]
    return "\n".join(lines) + "\n"
