"""The consoles of the privileged roles: ``/rep`` and ``/rep/audit``, ``/dpo`` and ``/dpo/dpia``, ``/admin``.

Each route declares its role (``RepresentativeSession``, ``DpoSession``, ``AdminSession``): a
session without it is refused before the handler runs. The representative sees every policy
version with the decisions they may sign (with their passkey, ``passkeys.py``), the registered
keys and the audit log in full; the DPO sees the rights requests (never who they are about) and
the DPIA; the admin sees how the installation is set up, and no data.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from teamlens import services
from teamlens.web.deps import AdminSession, CurrentWorkspace, DpoSession, RepresentativeSession, SignInService
from teamlens.web.pages import ConsolePage, RepPage, render_console, render_rep_page

router = APIRouter()


@router.get("/rep", response_class=HTMLResponse)
def representative(
    session: RepresentativeSession, sign_in: SignInService, current: CurrentWorkspace, done: str = ""
) -> str:
    """The representative's console: versions and the decisions to sign, keys, the audit head."""
    token = sign_in.cookies.signer.csrf_token(session)
    return render_rep_page(RepPage.build(current, token, done))


@router.get("/rep/audit", response_class=HTMLResponse)
def full_audit_log(session: RepresentativeSession, current: CurrentWorkspace) -> str:
    """Every audit entry with every detail, newest first (the representative's read-only audit role)."""
    return render_console(ConsolePage.audit(current), "/rep")


@router.get("/dpo", response_class=HTMLResponse)
def dpo(session: DpoSession, current: CurrentWorkspace) -> str:
    """The DPO's list of rights requests: id, kind, origin, state, date; never who they are about."""
    return render_console(ConsolePage.requests(current), "/dpo")


@router.get("/dpo/dpia", response_class=HTMLResponse)
def dpia(session: DpoSession, current: CurrentWorkspace) -> str:
    """The DPIA of the policy in force (the newest version while none is)."""
    return services.document_html(current, "dpia")


@router.get("/admin", response_class=HTMLResponse)
def admin(session: AdminSession, current: CurrentWorkspace) -> str:
    """How the installation is set up: sign-in, roles file, keys, sources; no data."""
    return render_console(ConsolePage.settings(current), "/admin")
