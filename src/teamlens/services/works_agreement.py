"""The draft works agreement (Betriebsvereinbarung, BetrVG §87(1) no. 6) for the web app (R41).

The representative and the DPO read the draft generated from the policy in force (the newest
version while none is) as HTML or PDF, from their own pages. It exists only under a jurisdiction
profile that calls for it (``de``); every copy handed out is recorded in the audit log
(``document.works_agreement``: policy, version, format and the reader's role, nothing else).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from teamlens.domain import Document
from teamlens.errors import PolicyError
from teamlens.services.documents import document_html, html_to_pdf, select_policy
from teamlens.services.workspace import Workspace

#: The audit action recording that a reader took a copy of the draft.
ACTION = "document.works_agreement"
_KIND = "betriebsvereinbarung"
_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


@dataclass(frozen=True)
class WorksAgreement:
    """One copy of the draft: its content, media type and file name."""

    content: bytes
    media_type: str
    filename: str


def available(ws: Workspace) -> bool:
    """Whether the policy shown (in force, or the newest) runs under a profile with a works agreement."""
    try:
        policy = select_policy(ws).policy
    except PolicyError:
        return False
    return Document.BETRIEBSVEREINBARUNG in policy.profile.documents


def works_agreement(ws: Workspace, kind: str, *, reader: str) -> WorksAgreement:
    """The draft as ``kind`` ("html" or "pdf") for ``reader`` (a role the web checked); audited."""
    stored = select_policy(ws)
    policy_id, version = stored.policy.policy_id, stored.policy.version
    html = document_html(ws, _KIND, policy_id=policy_id, version=version)  # refuses other profiles
    content = html.encode("utf-8")
    if kind == "pdf":
        with tempfile.TemporaryDirectory(prefix="teamlens-doc-") as folder:
            page = Path(folder) / f"{_KIND}.html"
            page.write_bytes(content)
            content = html_to_pdf(page, Path(folder) / f"{_KIND}.pdf").read_bytes()
    details = {"policy_id": policy_id, "version": version, "format": kind, "channel": "web"}
    ws.governance.append_audit(reader, ACTION, details)
    return WorksAgreement(content, _TYPES[kind], f"betriebsvereinbarung-{policy_id}-v{version}.{kind}")
