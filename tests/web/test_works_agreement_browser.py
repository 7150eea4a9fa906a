"""In headless Chromium: the representative and the DPO open the draft works agreement from their pages.

Each signs in through the demo OpenID Connect provider, follows the link on their own console to
the Betriebsvereinbarung draft of the German policy and sees it rendered; the screenshots go to
``$TEAMLENS_SCREENSHOTS`` (``.screenshots/`` by default) as ``works-agreement-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..integration.flow_support import Org
from ..support.orgs import OrgCache
from .conftest import ROLE_HOLDERS
from .test_browser_e2e import CHROMIUM, FLAGS, SHOTS, _served, _sign_in, playwright_api
from .test_works_agreement import german_draft

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
]


@pytest.fixture
def site(org_cache: OrgCache, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Org]]:
    with org_cache.copy(german_draft, tmp_path_factory.mktemp("works-agreement")) as org:
        yield from _served(org)


def test_both_parties_open_the_draft_from_their_console(site: tuple[str, Org]) -> None:
    base, org = site
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            for role, console, link in (
                ("representative", "/rep", "#works-agreement a:text('read it')"),
                ("dpo", "/dpo", "a:text('The draft works agreement (Betriebsvereinbarung)')"),
            ):
                page: Any = browser.new_context().new_page()
                _sign_in(page, base, ROLE_HOLDERS[role], mfa=True)
                page.goto(f"{base}{console}")
                page.screenshot(path=str(Path(SHOTS) / f"works-agreement-{role}-console.png"), full_page=True)
                page.click(link)
                page.wait_for_url(f"{base}{console}/works-agreement")
                assert "Betriebsvereinbarung" in page.content()
                page.screenshot(path=str(Path(SHOTS) / f"works-agreement-{role}.png"), full_page=False)
                page.close()
        finally:
            browser.close()
    readers = [
        e.actor for e in org.ws.governance.audit_entries(limit=5) if e.action == "document.works_agreement"
    ]
    assert sorted(readers) == ["dpo", "representative"]
