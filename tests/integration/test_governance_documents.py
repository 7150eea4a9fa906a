"""Documents generated from the policy: DPIA, notice, explainer, consultation page, register.

Requirements R4, R5, R16, R17 and R38.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import enum
import hashlib
import html
import json
from fractions import Fraction
from pathlib import Path

import pytest

from teamlens import services
from teamlens.cli import main
from teamlens.domain import Exclusions, MetricBound, Policy, ReleaseDesign, ReportDef, Rho, WorkingHours
from teamlens.privacy import expected_half_width
from teamlens.services.documents import build_document, render, worked_examples

from ..support.orgs import org_fixture
from ..support.paths import needs_chromium
from .flow_support import Org, build_org, policy_text, signer

PID = "collaboration-2026h1"
OBJECTION = "We object: meeting hours per team feel like surveillance."
RESPONSE = "Kept at team level with k = 10; weekly team figures are not in the catalogue."


def consulted_and_released(root: Path) -> Org:
    built = build_org(root, people=300, weeks=6, approve=False)
    built.policy_file.write_text(policy_text(), encoding="utf-8")
    services.propose(built.ws, built.policy_file, actor="hr")
    services.consult(built.ws, PID, 1, by=signer(built.ws, "employer"), actor="hr")
    services.comment(built.ws, PID, 1, text=OBJECTION, author="Team Falcon", objection=True)
    services.respond(built.ws, PID, 1, by=signer(built.ws, "employer"), author="HR director", text=RESPONSE)
    signed = services.sign_off_dpia(
        built.ws,
        PID,
        1,
        measures_by="Emma Employer",
        residual_risk="medium",
        dpo_advice="Proceed; review the meeting-hours metric in six months.",
        consultation_reviewed_by="Dora DPO",
        actor="hr",
    )
    assert signed.signoff.dpia_sha256 == hashlib.sha256(signed.dpia_html.encode("utf-8")).hexdigest()
    assert "ICO" in signed.dpia_html  # the hash is of the generated DPIA itself
    services.approve(built.ws, PID, 1, by=signer(built.ws, "employer"), approver="Emma Employer")
    services.approve(built.ws, PID, 1, by=signer(built.ws, "representative"), approver="Rob Representative")
    services.ingest(built.ws, [built.exports], actor="admin")
    services.release(built.ws, "department-monthly", ["2026-01"], actor="analyst")
    return built


org = org_fixture(consulted_and_released)


def expected_tokens(value: object) -> list[str]:
    """How a policy value must show up in a document, worked out independently of the generator."""
    if isinstance(value, bool):
        return ["may not be used for any decision about an individual"] if value else []
    if isinstance(value, enum.Enum):
        return [str(value.value)]
    if isinstance(value, Rho):
        return [str(value.value)]
    if isinstance(value, MetricBound):
        return [value.name]
    if isinstance(value, ReportDef):
        return [value.report_id, value.title]
    if isinstance(value, Exclusions):
        return [*value.addresses, *value.domains]
    if isinstance(value, ReleaseDesign):
        share = f"{float(value.headcount_share):.0%} of the budget"
        return [f"over each {value.clipping_block.value}", share]
    if isinstance(value, WorkingHours):
        return [f"{value.start:%H:%M}", f"{value.end:%H:%M}", value.timezone]
    if isinstance(value, tuple):
        return [token for item in value for token in expected_tokens(item)]
    if isinstance(value, float):
        return [f"{value:g}"]
    if isinstance(value, str) and not value:
        return []
    if isinstance(value, str | int | dt.date | Fraction):
        return [str(value)]
    raise AssertionError(f"the test does not know how to find a {type(value).__name__}: extend it")


@pytest.mark.parametrize("kind", ["dpia", "notice"])
def test_every_policy_field_appears_in_the_dpia_and_the_notice(org: Org, kind: str) -> None:
    context = build_document(org.ws, kind)
    page = html.unescape(render(kind, context))
    for field in dataclasses.fields(Policy):
        assert f'data-field="{field.name}"' in page, f"{kind} lacks the policy field {field.name}"
        for token in expected_tokens(getattr(context.policy, field.name)):
            assert token in page, f"{kind} does not show {field.name} = {token!r}"


def test_the_dpia_follows_the_seven_ico_steps_and_carries_the_consultation(org: Org, tmp_path: Path) -> None:
    page = html.unescape(render("dpia", build_document(org.ws, "dpia", suite_file=tmp_path / "none.json")))
    headings = [
        "Step 1: Identify the need for a DPIA",
        "Step 2: Describe the processing",
        "Step 3: Consultation",
        "Step 4: Necessity and proportionality",
        "Step 5: Identify and assess risks",
        "Step 6: Measures to reduce risk",
        "Step 7: Sign off and record outcomes",
    ]
    positions = [page.index(heading) for heading in headings]
    assert positions == sorted(positions)
    assert OBJECTION in page
    assert RESPONSE in page
    assert "Team Falcon" in page
    assert "Emma Employer (employer" in page
    assert "Rob Representative (representative" in page
    for attack in (
        "A1, A3",
        "A5",
        "A8",
        "A16",
        "A17",
        "A24",
        "A25",
        "A26",
        "A27",
        "A28",
        "A29",
        "A30",
        "A31",
    ):
        assert attack in page
    # Residual risks are rated, not all "low": ε ≈ 9.8 is a weak bound, small groups show on noisy counts.
    assert "<strong>medium</strong>: What any combination of releases reveals" in page
    assert "all low" not in page
    assert "The privacy attack suite has not yet run" in page


def test_the_dpia_embeds_the_privacy_suite_results(org: Org, tmp_path: Path) -> None:
    results = tmp_path / "privacy-suite-results.json"
    results.write_text(
        json.dumps(
            {
                "generated_at": "2026-11-20T10:00:00Z",
                "results": [
                    {"id": "A1", "title": "differencing", "outcome": "passed"},
                    {"id": "A5", "title": "reconstruction", "outcome": "failed"},
                ],
            }
        ),
        encoding="utf-8",
    )
    page = render("dpia", build_document(org.ws, "dpia", suite_file=results))
    assert "1 of 2 attack tests passed" in page
    assert "2026-11-20T10:00:00Z" in page
    assert "<td>A5</td><td>reconstruction</td><td>failed</td><td><strong>high</strong>" in page
    assert "<td>A1</td><td>differencing</td><td>passed</td><td><strong>medium</strong>" in page
    results.write_text("{not json", encoding="utf-8")
    assert "could not be read" in render("dpia", build_document(org.ws, "dpia", suite_file=results))


def test_the_explainer_gives_worked_numbers_from_the_planner(org: Org) -> None:
    context = build_document(org.ws, "explainer")
    examples = worked_examples(context)
    assert {example.report for example in examples} == {report.title for report in context.policy.reports}
    first = examples[0]
    report = next(r for r in context.policy.reports if r.title == first.report)
    metric = report.metrics[0]
    expected = expected_half_width(context.policy, report.report_id, first.group_size, first.typical, metric)
    assert first.half_width == pytest.approx(expected, abs=0.01)
    page = render("explainer", context)
    assert f"±{first.half_width:.2f}" in page
    assert "Your manager cannot learn" in page
    assert "fewer than 10" in page


def test_the_register_lists_releases_roles_and_budget_and_agrees_with_the_audit_log(org: Org) -> None:
    context = services.build_register(org.ws)
    assert context.active is not None
    assert context.policy is not None
    assert len(context.releases) == context.audit_releases == 1
    assert context.spent == pytest.approx(float(context.releases[0].rho.value))
    page = render("register", context)
    assert 'id="release-count">1<' in page
    assert "matching the audit log" in page
    assert "Rob Representative" in page
    assert "department-monthly" in page
    assert "hash chain intact" in page


def test_no_document_names_a_worker(org: Org) -> None:
    with open(org.synth.directory_csv, encoding="utf-8") as handle:
        people = [row for row in csv.DictReader(handle)]
    pages = "".join(
        services.document_html(org.ws, kind) for kind in ("dpia", "notice", "explainer", "register")
    )
    for row in people:
        assert row["Email"] not in pages
        assert row["Display Name"] not in pages


@needs_chromium
@pytest.mark.parametrize("kind", ["dpia", "notice"])
def test_documents_render_to_pdf(org: Org, tmp_path: Path, kind: str) -> None:
    out = services.write_document(org.ws, kind, tmp_path / f"{kind}.pdf", pdf=True)
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(data) > 10_000


def test_the_docs_commands_write_each_document(
    org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMLENS_DATA_DIR", str(org.ws.settings.data_dir))
    for kind in ("dpia", "notice", "explainer", "register", "consultation"):
        out = tmp_path / f"{kind}.html"
        main(["docs", kind, "--out", str(out)])
        assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    with pytest.raises(SystemExit) as caught:
        main(["docs", "dpia", "--out", str(tmp_path / "x.html"), "--policy", "nope"])
    assert caught.value.code == 3


def test_the_dpia_shows_the_reasons_for_not_consulting_instead_of_the_warning(tmp_path: Path) -> None:
    built = build_org(tmp_path, people=60, weeks=2, approve=False)
    built.policy_file.write_text(policy_text(), encoding="utf-8")
    services.propose(built.ws, built.policy_file, actor="hr")
    unrecorded = services.document_html(built.ws, "dpia", policy_id=PID, version=1)
    assert "No consultation was recorded" in unrecorded
    reason = "Pilot on one site; the works council asked to consult on the full roll-out instead."
    services.not_consulted(
        built.ws, PID, 1, by=signer(built.ws, "employer"), author="HR director", reason=reason
    )
    dpia = services.document_html(built.ws, "dpia", policy_id=PID, version=1)
    assert html.escape(reason) in dpia
    assert "No consultation was recorded" not in dpia


def test_the_dpia_shows_a8s_known_limit_as_medium_residual_risk(org: Org) -> None:
    from teamlens.services.dpia_evidence import SUITE_RESULTS

    if not SUITE_RESULTS.is_file():
        pytest.skip("docs/privacy-suite-results.json is written by `make audit`")
    context = build_document(org.ws, "dpia")
    a8 = next(row for row in context.evidence if row.attack == "A8")
    assert (a8.outcome, a8.residual) == ("known limit", "medium")
    assert "noisy headcount" in a8.residual_note
    assert all(
        row.residual != "low" for row in context.evidence if row.outcome not in ("passed", "pass", "ok")
    )


def test_the_dpia_records_the_dpo_advice_it_was_signed_off_with(tmp_path: Path) -> None:
    built = build_org(tmp_path, people=60, weeks=2, approve=False)
    built.policy_file.write_text(policy_text(), encoding="utf-8")
    services.propose(built.ws, built.policy_file, actor="hr")
    services.not_consulted(built.ws, PID, 1, by=signer(built.ws, "employer"), author="HR", reason="Pilot.")
    unsigned = html.unescape(services.document_html(built.ws, "dpia", policy_id=PID, version=1))
    assert "Not yet given" in unsigned and "To be completed" not in unsigned
    advice = "Do not release the weekly team report; the rest may proceed."
    overruled = "The weekly report is the only one the works council asked for."
    signed = services.sign_off_dpia(
        built.ws,
        PID,
        1,
        measures_by="Emma Employer",
        residual_risk="medium",
        dpo_advice=advice,
        consultation_reviewed_by="Dora DPO",
        actor="controller",
        overruled_because=overruled,
    )
    # The hashed document is the one with step 7 filled in, and so is every later rendering.
    assert signed.signoff.dpia_sha256 == hashlib.sha256(signed.dpia_html.encode("utf-8")).hexdigest()
    for page in (signed.dpia_html, services.document_html(built.ws, "dpia", policy_id=PID, version=1)):
        shown = html.unescape(page)
        assert advice in shown
        assert f"Overruled, because: {overruled}" in shown
        assert "Emma Employer (signed off" in shown and "Dora DPO" in shown
        assert "Not yet given" not in shown and "To be completed" not in shown
