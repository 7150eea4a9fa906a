"""The documents each jurisdiction profile generates (R41), with R9, R29 and R42 in them.

For every profile the DPIA keeps the ICO's seven steps and adds the profile's sections and legal
references; the notice cites the profile's references and regulator; Germany alone gets the
Betriebsvereinbarung draft, filled from the policy. The documents are rendered from the one
organisation ``test_governance_documents`` builds (cached), with the stored policy's jurisdiction
and representative body changed, so no organisation is built per profile.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import pytest

from teamlens.cli import main
from teamlens.domain import PROFILES, Document, Jurisdiction, RepresentativeBody
from teamlens.errors import ConfigError, PolicyError
from teamlens.services.documents import DocumentContext, build_document, render
from teamlens.services.dpia_processors import data_flows, declared_processors
from teamlens.services.report_document import build_context, render_report
from teamlens.settings import Settings

from ..support.orgs import org_fixture
from .flow_support import Org
from .test_governance_documents import consulted_and_released

org = org_fixture(consulted_and_released)
BODY = {
    "uk": RepresentativeBody.TRADE_UNION,
    "eu": RepresentativeBody.WORKS_COUNCIL,
    "de": RepresentativeBody.WORKS_COUNCIL,
    "fr": RepresentativeBody.CSE,
    "nl": RepresentativeBody.WORKS_COUNCIL,
}
STEPS = [f"Step {n}:" for n in range(1, 8)]


def under(context: DocumentContext, jurisdiction: str) -> DocumentContext:
    """``context`` with its policy moved to ``jurisdiction`` (and that profile's usual body)."""
    policy = dataclasses.replace(
        context.policy, jurisdiction=Jurisdiction(jurisdiction), representative_body=BODY[jurisdiction]
    )
    return dataclasses.replace(context, stored=dataclasses.replace(context.stored, policy=policy))


_BUILT: dict[str, DocumentContext] = {}


@pytest.fixture
def contexts(org: Org) -> dict[str, DocumentContext]:
    """The organisation's DPIA and notice contexts, gathered once for the module (they are frozen)."""
    if not _BUILT:
        _BUILT.update({kind: build_document(org.ws, kind) for kind in ("dpia", "notice")})
    return _BUILT


@pytest.mark.parametrize("jurisdiction", [j.value for j in Jurisdiction])
def test_the_dpia_has_the_profiles_sections_and_references(
    contexts: dict[str, DocumentContext], jurisdiction: str
) -> None:
    profile = PROFILES[Jurisdiction(jurisdiction)]
    page = html.unescape(render("dpia", under(contexts["dpia"], jurisdiction)))
    positions = [page.index(step) for step in STEPS]
    assert positions == sorted(positions), "the ICO's seven steps, in order"
    assert f"Jurisdiction: {profile.name}" in page
    assert f"{profile.gdpr} Art 35" in page
    assert page.index(f"Legal references ({profile.name})") > positions[-1]
    for reference in profile.references:
        assert f'data-reference="{reference.citation}"' in page
        assert reference.citation in page
    unverified = [r for r in profile.references if not r.verified]
    assert page.count("not verified") == len(unverified)
    # R9: what is never inferred, and the AI Act position, in every profile.
    assert 'id="never-inferred"' in page and 'id="ai-act"' in page
    for word in ("emotions", "engagement", "“burn-out risk”", "score", "Art 3(1)", "Art 5(1)(f)"):
        assert word in page
    assert ('id="gdpr-art-88"' in page) == (Document.ART88 in profile.documents)
    assert profile.approver_rule.citation in page
    assert BODY[jurisdiction].value.replace("_", " ") in page


@pytest.mark.parametrize("jurisdiction", [j.value for j in Jurisdiction])
def test_the_notice_cites_the_profiles_references_and_regulator(
    contexts: dict[str, DocumentContext], jurisdiction: str
) -> None:
    profile = PROFILES[Jurisdiction(jurisdiction)]
    page = html.unescape(render("notice", under(contexts["notice"], jurisdiction)))
    for reference in profile.references:
        assert reference.citation in page
    assert f"Complain</strong> to {profile.regulator}" in page
    assert 'id="activity-not-productivity"' in page  # R42
    assert "Activity, not productivity." in page


def test_the_uk_documents_are_the_ones_before_profiles(contexts: dict[str, DocumentContext]) -> None:
    assert contexts["dpia"].policy.jurisdiction is Jurisdiction.UK  # the template says uk
    page = html.unescape(render("dpia", contexts["dpia"]))
    assert "UK GDPR Art 35; ICO guidance on monitoring workers" in page
    assert 'id="gdpr-art-88"' not in page


def test_the_betriebsvereinbarung_is_generated_from_the_policy_in_germany_only(
    org: Org, contexts: dict[str, DocumentContext], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PolicyError) as refused:
        build_document(org.ws, "betriebsvereinbarung")
    assert "'uk'" in refused.value.message and "jurisdiction" in refused.value.hint
    monkeypatch.setenv("TEAMLENS_DATA_DIR", str(org.ws.settings.data_dir))
    with pytest.raises(SystemExit) as exited:
        main(["docs", "betriebsvereinbarung", "--out", str(tmp_path / "bv.html")])
    assert exited.value.code == PolicyError.exit_code and not (tmp_path / "bv.html").exists()
    context = under(contexts["dpia"], "de")
    policy = context.policy
    agreement = dataclasses.replace(context, kind="betriebsvereinbarung")
    page = html.unescape(render("betriebsvereinbarung", agreement))
    assert "§ 87 Abs. 1 Nr. 6 BetrVG" in page
    assert "1 ABR 6/94" in page
    for bound in policy.metrics:
        assert f"<code>{bound.name}</code>" in page
    for report in policy.reports:
        assert f"<code>{report.report_id}</code>" in page
    assert f"weniger als {policy.min_group_size} Personen" in page
    assert f"nach {policy.retention_days} Tagen" in page
    assert f"bis zum\n  {policy.review_date}" in page
    assert policy.controller in page
    assert "Rob Representative" in page  # the representative who signed, under the council's line
    central = dataclasses.replace(policy, representative_body=RepresentativeBody.CENTRAL_WORKS_COUNCIL)
    stored = dataclasses.replace(context.stored, policy=central)
    assert "Gesamtbetriebsrat" in render("betriebsvereinbarung", dataclasses.replace(context, stored=stored))


def test_the_dpia_lists_processors_and_flags_an_undeclared_connection(
    tmp_path: Path, contexts: dict[str, DocumentContext]
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        oidc_issuer="https://login.idp.example.net/tenant/v2.0",
        database_url="postgresql+psycopg://teamlens@db.cloud.example.org:5432/teamlens",
        hosting="Example Hosting GmbH, Frankfurt, Germany",
        processors="Example IdP Ltd | sign-in via login.idp.example.net | Dublin, Ireland",
    )
    flows = data_flows(settings, contexts["dpia"].policy)
    assert [(c.host, c.declared_by) for c in flows.connections] == [
        ("login.idp.example.net", "Example IdP Ltd"),
        ("db.cloud.example.org", None),
    ]
    page = html.unescape(render("dpia", dataclasses.replace(contexts["dpia"], flows=flows)))
    assert "Example Hosting GmbH, Frankfurt, Germany" in page
    assert "Dublin, Ireland" in page
    assert 'data-host="db.cloud.example.org"' in page
    assert page.count('class="undeclared"') == 1
    # Teeth: without the integrations in the settings, neither host is listed.
    bare = data_flows(Settings(data_dir=tmp_path / "data"), contexts["dpia"].policy)
    assert bare.connections == () and bare.hosting is None
    with pytest.raises(ConfigError, match="entry 2"):
        declared_processors("A | hosting | UK; just a name")


def test_every_report_page_carries_the_activity_note(contexts: dict[str, DocumentContext]) -> None:
    page = render_report(build_context(contexts["dpia"].policy, []))
    assert page.count('id="activity-not-productivity"') == 1
    slot = page.index('id="activity-note"')  # the slot the report page leaves for it, in the footer
    assert slot < page.index("Activity, not productivity.") < page.index("</footer>")
