"""Reading and verifying the audit log, for everyone who may see it."""

from __future__ import annotations

from teamlens.governance import AuditEntry, AuditVerification
from teamlens.services.workspace import Workspace


def verify_audit(ws: Workspace) -> AuditVerification:
    """Check the audit log's hash chain from the first entry to the last."""
    return ws.governance.verify_audit()


def audit_entries(ws: Workspace, *, limit: int = 50) -> list[AuditEntry]:
    """The newest ``limit`` audit entries, newest first."""
    return ws.governance.audit_entries(limit=limit)


def verify_store(ws: Workspace) -> list[str]:
    """Problems found in the fact store (files missing, schemas wrong); empty when healthy."""
    return ws.store.verify()
