"""Policy actions for people: template, propose, approve, suspend, show."""

from __future__ import annotations

from pathlib import Path

from teamlens.errors import InputFormatError
from teamlens.governance import ActivePolicy, PolicyState, PolicyVersionInfo, StoredPolicy, policy_template
from teamlens.services.workspace import Workspace


def template() -> str:
    """A complete, commented example policy to start from."""
    return policy_template()


def propose(ws: Workspace, path: Path, *, actor: str) -> PolicyVersionInfo:
    """Record the policy in ``path`` as a new proposed version (nothing runs until it is approved)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError) as error:
        raise InputFormatError(path, f"cannot read the policy file ({type(error).__name__})") from None
    return ws.governance.propose(text, source=str(path), actor=actor)


def approve(ws: Workspace, policy_id: str, version: int, *, party: str, approver: str) -> PolicyVersionInfo:
    """Record one party's approval; the version becomes active once employer and representative agree.

    When it becomes active, workers are told which version of the privacy notice applies (R16).
    """
    info = ws.governance.approve(policy_id, version, party=party, approver=approver, actor=approver)
    if info.state is PolicyState.ACTIVE:
        from teamlens.services.documents import record_notice_version

        record_notice_version(ws, policy_id, version, actor=approver)
    return info


def suspend(ws: Workspace, policy_id: str, *, party: str, actor: str) -> PolicyVersionInfo:
    """Stop all ingestion and releases under the policy at once (either party alone may do this)."""
    return ws.governance.suspend(policy_id, party=party, actor=actor)


def active(ws: Workspace) -> ActivePolicy | None:
    """The active, verified policy, or None when teamlens is off."""
    return ws.governance.active_policy()


def in_force(ws: Workspace) -> StoredPolicy:
    """The policy in force as stored (its version record and exact text); NoApprovedPolicy while off."""
    active = ws.governance.require_active_policy("show the policy in force")
    return ws.governance.stored_policy(active.policy_id, active.version)
