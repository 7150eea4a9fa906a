"""End to end in headless Chromium: every role signs in through a real OpenID Connect provider.

The provider (``web.demo_idp``) and the app (uvicorn) listen on the loopback interface; Chromium
gets a virtual WebAuthn authenticator through the DevTools protocol. The representative
registers a passkey and approves a policy version with it; the analyst opens the reports and is
refused the representative's console; the worker opens /me, downloads their data and objects.
Screenshots go to ``$TEAMLENS_SCREENSHOTS`` (default ``.screenshots/`` in the checkout).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from teamlens import services
from teamlens.services import Workspace
from teamlens.web import create_app
from teamlens.web.demo_idp import DemoIdentityProvider

from ..integration.flow_support import Org, build_org, policy_text, sign_off, signer
from ..support.orgs import OrgCache
from .conftest import ROLE_HOLDERS, grant_roles

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(os.environ.get("TEAMLENS_SCREENSHOTS", Path(__file__).resolve().parents[2] / ".screenshots"))
PID = "collaboration-2026h1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def v2_waiting(root: Path) -> Org:
    """60 workers under policy v1 with a release and roles; v2 (a widening) approved by the employer."""
    org = build_org(root, people=60, weeks=4)
    services.ingest(org.ws, [org.exports], actor="admin")
    services.release(org.ws, "department-monthly", ["2026-01"], actor="analyst")
    grant_roles(org)
    v2 = root / "v2.toml"  # a widening: it needs both parties, the representative's by passkey
    v2.write_text(policy_text(**{"version = 1": "version = 2", "min_group_size = 10": "min_group_size = 8"}))
    services.propose(org.ws, v2, actor="HR analyst")
    employer = signer(org.ws, "employer")
    services.not_consulted(org.ws, PID, 2, by=employer, author="HR", reason="A test installation.")
    sign_off(org.ws, PID, 2)
    services.approve(org.ws, PID, 2, by=employer, approver="HR director")
    return org


@pytest.fixture
def site(org_cache: OrgCache, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Org]]:
    """The app on http://localhost:PORT with the demo provider, on this test's copy of ``v2_waiting``."""
    with org_cache.copy(v2_waiting, tmp_path_factory.mktemp("e2e")) as org:
        yield from _served(org)


def _served(org: Org) -> Iterator[tuple[str, Org]]:
    import uvicorn

    people = tuple((role, address) for role, address in ROLE_HOLDERS.items())
    idp = DemoIdentityProvider(people=people).start()
    port = _free_port()
    ws = Workspace(
        org.ws.settings.model_copy(
            update={
                "roles_file": org.ws.settings.data_dir.parent / "roles.toml",
                "oidc_issuer": idp.issuer,
                "oidc_client_id": idp.client_id,
                "oidc_client_secret": SecretStr(idp.client_secret),
                "web_base_url": f"http://localhost:{port}",
            }
        )
    )
    server = uvicorn.Server(uvicorn.Config(create_app(ws), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://localhost:{port}", org
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        idp.stop()
        if "governance" in vars(ws):
            ws.governance.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield launched
        launched.close()


def _sign_in(page: Any, base: str, address: str, *, mfa: bool) -> None:
    page.goto(f"{base}/auth/login")
    page.wait_for_selector("#email")
    page.fill("#email", address)
    if mfa:
        page.check("#mfa")
    page.click("#sign-in")
    page.wait_for_url(f"{base}/me")


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_representative_registers_a_passkey_and_approves_with_it(
    site: tuple[str, Org], browser: Any
) -> None:
    base, org = site
    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    _sign_in(page, base, ROLE_HOLDERS["representative"], mfa=True)
    page.goto(f"{base}/rep")
    _shot(page, "01-representative-console")
    page.click("text=Register a passkey on this device")
    page.click("#passkey-start")
    page.wait_for_url(f"{base}/rep/keyset")
    _shot(page, "02-representative-confirms-key-set")
    page.click("#passkey-start")
    page.wait_for_url(f"{base}/rep?done=keyset")
    # The employer and the representative's existing key witness the new key set, as both must.
    waiting = [info for info in org.ws.governance.key_sets() if info.registered_at is None]
    assert len(waiting) == 1
    for party in ("employer", "representative", "dpo"):
        services.keys.confirm_keys(org.ws, waiting[0].digest, signer(org.ws, party), actor=party)
    assert any(k.kind == "passkey" for k in services.keys.registered(org.ws).keys)  # type: ignore[union-attr]
    page.goto(f"{base}/rep")
    page.click("text=Approve with my passkey")
    page.wait_for_selector("#statement")
    _shot(page, "03-representative-signs-approval")
    page.click("#passkey-start")
    page.wait_for_url(f"{base}/rep?done=policy.approve")
    _shot(page, "04-representative-approved")
    assert org.ws.governance.require_active_policy("test").version == 2
    assert org.ws.governance.verify_audit().ok
    approval = next(e for e in org.ws.governance.audit_entries(limit=20) if e.action == "policy.approve")
    assert approval.details["party"] == "representative"
    assert approval.details["signed"]["signature"]["kind"] == "passkey"  # type: ignore[index]
    # Signed in again without the provider's second factor, the passkey serves as the second factor.
    _sign_in(page, base, ROLE_HOLDERS["representative"], mfa=False)
    assert page.goto(f"{base}/rep").status == 403
    page.goto(f"{base}/auth/passkey")
    page.click("#passkey-start")
    page.wait_for_url(f"{base}/rep")
    assert "The representative's console" in page.content()
    _shot(page, "04b-representative-second-factor-by-passkey")
    context.close()


def test_the_analyst_reads_the_reports_and_is_refused_the_representatives_pages(
    site: tuple[str, Org], browser: Any
) -> None:
    base, _ = site
    page = browser.new_page()
    _sign_in(page, base, ROLE_HOLDERS["analyst"], mfa=True)
    page.goto(f"{base}/")
    assert "95% interval" in page.content()
    _shot(page, "05-analyst-reports")
    for refused in ("/rep", "/rep/audit", "/dpo", "/admin"):
        response = page.goto(f"{base}{refused}")
        assert response.status == 403, refused
    assert "Not allowed" in page.content()
    _shot(page, "06-analyst-refused")
    page.close()


def test_the_worker_opens_their_page_downloads_their_data_and_objects(
    site: tuple[str, Org], browser: Any
) -> None:
    base, org = site
    email = next(iter(org.synth.directory_csv.read_text(encoding="utf-8").splitlines()[1:])).split(",")
    address = next(part for part in email if "@" in part)
    page = browser.new_page()
    _sign_in(page, base, address, mfa=False)
    assert "Your weekly counts still held" in page.content()
    _shot(page, "07-worker-page")
    with page.expect_download() as download:
        page.click("text=Download all of it")
    assert download.value.suggested_filename == "teamlens-my-data.zip"
    page.click("text=Object to this processing")
    page.wait_for_url(f"{base}/me?objected=1")
    assert "Your objection is recorded" in page.content()
    _shot(page, "08-worker-objected")
    for refused in ("/", "/rep"):
        assert page.goto(f"{base}{refused}").status == 403
    page.close()
