"""Read and change stored policy version rows; the building blocks of the lifecycle modules.

Every function runs inside a transaction ``GovernanceDB`` opened. State changes go through
``set_state``, which refuses any move the ``records.TRANSITIONS`` table does not list.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from teamlens.errors import InternalError, PolicyError
from teamlens.governance.policy_file import ParsedPolicy, parse_policy
from teamlens.governance.records import TRANSITIONS, Approval, Party, PolicyState, PolicyVersionInfo
from teamlens.governance.tables import approvals, as_utc, policy_versions

Row = sa.Row[tuple[object, ...]]


def row(conn: sa.Connection, policy_id: str, version: int) -> Row | None:
    """The stored row of one version, or ``None``."""
    return conn.execute(
        sa.select(policy_versions).where(
            policy_versions.c.policy_id == policy_id, policy_versions.c.version == version
        )
    ).one_or_none()


def require_row(conn: sa.Connection, policy_id: str, version: int) -> Row:
    """The stored row of one version, or a ``PolicyError`` saying how to list what exists."""
    found = row(conn, policy_id, version)
    if found is None:
        raise PolicyError(
            f"There is no policy '{policy_id}' version {version}.",
            "`teamlens policy list` shows the stored versions; propose the file first if it is new.",
        )
    return found


def active_row(conn: sa.Connection) -> Row | None:
    """The row marked active, if any (the database allows at most one)."""
    return conn.execute(
        sa.select(policy_versions).where(policy_versions.c.state == PolicyState.ACTIVE.value)
    ).one_or_none()


def parsed(found: Row) -> ParsedPolicy:
    """Parse a stored row's text (raises ``PolicyError`` if it no longer parses)."""
    return parse_policy(str(found.toml), f"stored policy '{found.policy_id}' version {found.version}")


def approvals_of(conn: sa.Connection, policy_id: str, version: int) -> tuple[Approval, ...]:
    """Every approval of one version, oldest first."""
    rows = conn.execute(
        sa.select(approvals)
        .where(approvals.c.policy_id == policy_id, approvals.c.version == version)
        .order_by(approvals.c.approved_at, approvals.c.party)
    )
    return tuple(
        Approval(Party(r.party), r.approver, r.sha256, as_utc(r.approved_at), r.record_sha256) for r in rows
    )


def set_state(conn: sa.Connection, found: Row, state: PolicyState, now: dt.datetime) -> None:
    """Move one version to ``state``; a move the lifecycle does not allow is a bug."""
    if state not in TRANSITIONS.get(PolicyState(str(found.state)), frozenset()):
        raise InternalError(f"policy state cannot go from {found.state} to {state.value}")
    conn.execute(
        policy_versions.update()
        .where(policy_versions.c.policy_id == found.policy_id, policy_versions.c.version == found.version)
        .values(state=state.value, state_changed_at=now)
    )


def info(conn: sa.Connection, found: Row) -> PolicyVersionInfo:
    """Describe one stored version, with the warnings its text gives today."""
    try:
        warnings = parsed(found).warnings
    except PolicyError as exc:
        warnings = (f"the stored text no longer parses: {exc.message}",)
    return PolicyVersionInfo(
        policy_id=str(found.policy_id),
        version=int(str(found.version)),
        title=str(found.title),
        state=PolicyState(str(found.state)),
        sha256=str(found.sha256),
        source=str(found.source),
        proposed_by=str(found.proposed_by),
        created_at=as_utc(found.created_at),
        state_changed_at=as_utc(found.state_changed_at),
        approvals=approvals_of(conn, str(found.policy_id), int(str(found.version))),
        warnings=warnings,
        tightens_version=None if found.tightens_version is None else int(str(found.tightens_version)),
    )


def refreshed(conn: sa.Connection, found: Row) -> PolicyVersionInfo:
    """Re-read a row after changing it and describe it."""
    return info(conn, require_row(conn, str(found.policy_id), int(str(found.version))))


def all_versions(conn: sa.Connection, policy_id: str | None) -> list[PolicyVersionInfo]:
    """List every stored version (of ``policy_id`` if given), by policy id and version."""
    query = sa.select(policy_versions).order_by(policy_versions.c.policy_id, policy_versions.c.version)
    if policy_id is not None:
        query = query.where(policy_versions.c.policy_id == policy_id)
    return [info(conn, found) for found in conn.execute(query).all()]
