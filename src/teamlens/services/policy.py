"""Policy actions for people: template, propose, approve, suspend, lift, show.

Every party's move takes ``by``: the party's key file loaded on this machine, or a decision its
passkey signed in the web app (``keys.Signer``); the party is the one the key proves.
"""

from __future__ import annotations

from pathlib import Path

from teamlens.errors import InputFormatError
from teamlens.governance import ActivePolicy, PolicyState, PolicyVersionInfo, StoredPolicy, policy_template
from teamlens.services.keys import Signer, signed
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


def approve(ws: Workspace, policy_id: str, version: int, *, by: Signer, approver: str) -> PolicyVersionInfo:
    """Record one party's signed approval; the version becomes active once both parties have signed.

    When it becomes active, workers are told which version of the privacy notice applies (R16).
    """
    decision = signed(ws, by, "policy.approve", policy_id, version)
    info = ws.governance.approve(policy_id, version, decision, approver=approver, actor=approver)
    if info.state is PolicyState.ACTIVE:
        from teamlens.services.documents import record_notice_version

        record_notice_version(ws, policy_id, version, actor=approver)
    return info


def suspend(ws: Workspace, policy_id: str, *, by: Signer, actor: str) -> PolicyVersionInfo:
    """Stop all ingestion and releases under the policy at once (either party's signature suffices)."""
    return ws.governance.suspend(policy_id, signed(ws, by, "policy.suspend", policy_id), actor=actor)


def lift(ws: Workspace, policy_id: str, version: int, *, by: Signer, actor: str) -> PolicyVersionInfo:
    """Sign the lifting of a suspension; the version runs again once both parties have signed."""
    return ws.governance.lift(policy_id, version, signed(ws, by, "policy.lift", policy_id, version), actor)


def active(ws: Workspace) -> ActivePolicy | None:
    """The active, verified policy, or None when teamlens is off."""
    return ws.governance.active_policy()


def in_force(ws: Workspace) -> StoredPolicy:
    """The policy in force as stored (its version record and exact text); NoApprovedPolicy while off."""
    active = ws.governance.require_active_policy("show the policy in force")
    return ws.governance.stored_policy(active.policy_id, active.version)
