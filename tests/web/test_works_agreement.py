"""The draft works agreement in the web app (R41): the representative and the DPO read it, audited.

Under a German policy (``jurisdiction = "de"``) both consoles link to the draft, which comes as a
page and as a PDF; each copy is one ``document.works_agreement`` entry naming the reader's role.
Other roles are refused. Teeth: under the template's UK policy no console links to it and the
page refuses, naming the jurisdiction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from teamlens import services
from teamlens.services.documents import chromium_path
from teamlens.web import create_app

from ..integration.flow_support import Org, build_org, policy_text
from ..support.orgs import org_fixture
from .conftest import BASE_URL, grant_roles, sign_in_workspace, signed_in_as
from .replayed_idp import ReplayedProvider

GERMAN = {
    'jurisdiction = "uk"': 'jurisdiction = "de"',
    'representative_body = "trade_union"': 'representative_body = "works_council"',
}


def german_draft(root: Path) -> Org:
    """A German policy proposed (the draft is negotiated before approval), with the tests' roles."""
    built = build_org(root, people=20, weeks=1, approve=False)
    built.policy_file.write_text(policy_text(**GERMAN), encoding="utf-8")
    services.propose(built.ws, built.policy_file, actor="HR analyst")
    grant_roles(built)
    return built


def uk_draft(root: Path) -> Org:
    """The template's (UK) policy proposed, with the tests' roles."""
    built = build_org(root, people=20, weeks=1, approve=False)
    built.policy_file.write_text(policy_text(), encoding="utf-8")
    services.propose(built.ws, built.policy_file, actor="HR analyst")
    grant_roles(built)
    return built


german_org = org_fixture(german_draft)
uk_org = org_fixture(uk_draft)


def client(org: Org, idp: ReplayedProvider, role: str) -> TestClient:
    app: FastAPI = create_app(sign_in_workspace(org), idp_transport=idp.transport())
    return signed_in_as(TestClient(app, base_url=BASE_URL), idp, role)


def last_entry(org: Org) -> Any:
    return org.ws.governance.audit_entries(limit=1)[0]


@pytest.mark.parametrize(("role", "console"), [("representative", "/rep"), ("dpo", "/dpo")])
def test_the_representative_and_the_dpo_read_the_draft_from_their_page_and_it_is_audited(
    german_org: Org, idp: ReplayedProvider, role: str, console: str
) -> None:
    browser = client(german_org, idp, role)
    page = browser.get(console)
    assert f'href="{console}/works-agreement"' in page.text
    draft = browser.get(f"{console}/works-agreement")
    assert draft.status_code == 200 and draft.headers["content-type"].startswith("text/html")
    assert "Betriebsvereinbarung" in draft.text and "87" in draft.text
    entry = last_entry(german_org)
    assert (entry.action, entry.actor) == ("document.works_agreement", role)
    assert entry.details == {
        "policy_id": "collaboration-2026h1",
        "version": 1,
        "format": "html",
        "channel": "web",
    }
    if chromium_path() is None:
        pytest.skip("no Chromium to print the PDF with")
    pdf = browser.get(f"{console}/works-agreement.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert "attachment" in pdf.headers["content-disposition"]
    assert (last_entry(german_org).details["format"], last_entry(german_org).actor) == ("pdf", role)


@pytest.mark.parametrize("role", ["analyst", "admin"])
def test_other_roles_are_refused_the_draft(german_org: Org, idp: ReplayedProvider, role: str) -> None:
    browser = client(german_org, idp, role)
    before = german_org.ws.governance.audit_head()[0]
    for path in ("/rep/works-agreement", "/rep/works-agreement.pdf", "/dpo/works-agreement"):
        assert browser.get(path).status_code == 403, path
    assert german_org.ws.governance.audit_head()[0] == before


def test_under_a_uk_policy_there_is_no_draft_to_read(uk_org: Org, idp: ReplayedProvider) -> None:
    browser = client(uk_org, idp, "representative")
    assert "works-agreement" not in browser.get("/rep").text
    refused = browser.get("/rep/works-agreement")
    assert refused.status_code >= 400 and "jurisdiction" in refused.text
    assert last_entry(uk_org).action != "document.works_agreement"
