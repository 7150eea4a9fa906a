"""Generate the DPIA, the worker notice, the explainer and the consultation page from the policy.

None of these is written by hand (R4, R16, R38): each renders a typed context built from one
stored policy version, its consultation record, its approvals and the planner's figures, so the
documents say exactly what the software enforces. ``document_html`` renders one to a string (the
web app serves it as it is), ``in_force_document`` that of the policy in force, and
``write_document(ws, kind, out, pdf=...)`` writes HTML, and PDF through headless Chromium
(``html_to_pdf``). Which version: the one named, else the active one, else the newest proposed
(a DPIA is needed before anything is approved).
The public transparency register is in ``transparency.py``; it is written the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2

from teamlens.domain import METRICS, Document, Policy, ReportKind
from teamlens.errors import ConfigError, PolicyError
from teamlens.governance import ConsultationRecord, DpiaSignOff, Notification, Party, StoredPolicy
from teamlens.privacy import expected_half_width, rho_to_epsilon
from teamlens.services.dpia_content import RISKS, Risk, rated
from teamlens.services.dpia_evidence import Evidence, SuiteResults, evidence, suite_results
from teamlens.services.dpia_processors import DataFlows, data_flows
from teamlens.services.ingest import source_label
from teamlens.services.planner_figures import PlannerFigures, planner_figures
from teamlens.services.policy import in_force
from teamlens.services.policy_sheet import CLAUSE, LAWFUL_BASES, PURPOSES, PolicyRow, policy_sheet
from teamlens.services.report_document import guarantee_sentence
from teamlens.services.transparency import build_register
from teamlens.services.workspace import Workspace
from teamlens.verify import PartyKey, spaced

#: The documents ``write_document`` knows for every policy; "register" is built by ``transparency``.
KINDS = ("dpia", "notice", "explainer", "consultation", "register")
#: The documents a jurisdiction profile adds, written only for a policy under that profile.
PROFILE_KINDS = {"betriebsvereinbarung": Document.BETRIEBSVEREINBARUNG}

TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("teamlens.services", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)
TEMPLATES.globals["spaced"] = spaced
TEMPLATES.filters["metric_label"] = lambda name: METRICS[name].label if name in METRICS else name


@dataclass(frozen=True)
class DocumentContext:
    """What every policy document shows: the version, its full text as rows, and its figures.

    ``sheet`` has one row per policy field; ``figures`` are the planner's expected error bars;
    ``record`` the consultation record; ``representatives`` the names of the representatives
    who signed; ``suite`` the privacy attack suite's results, ``risks`` the risk register rated
    for this policy's ε and this installation's store encryption, and ``evidence`` each attack's
    result with the residual risk that agrees with it.
    """

    kind: str
    stored: StoredPolicy
    sheet: tuple[PolicyRow, ...]
    purpose: str
    lawful_basis: str
    clause: str
    epsilon: float
    guarantee: str
    figures: PlannerFigures
    record: ConsultationRecord
    representatives: tuple[str, ...]
    suite: SuiteResults
    risks: tuple[Risk, ...]
    evidence: tuple[Evidence, ...]
    generated_at: str
    #: The parties' registered public keys: every decision is signed by one of them (issue 9).
    keys: tuple[PartyKey, ...] = ()
    #: The DPIA's sign-off (ICO step 7), once recorded: the DPO's advice as given, the residual risk.
    signoff: DpiaSignOff | None = None
    #: The policy's sources in words (``source_label``), in the policy's order; ids stay for details.
    source_labels: tuple[str, ...] = ()
    #: Processors, hosting, outbound connections and data locations from the settings (R29).
    flows: DataFlows | None = None

    @property
    def policy(self) -> Policy:
        """The policy itself."""
        return self.stored.policy


@dataclass(frozen=True)
class WorkedExample:
    """One worked number for the explainer: a metric of a report at a typical group size (R38).

    ``one_person`` is the most one person's whole week can move the group's weekly mean (the
    per-week bound over the group size); ``half_width`` the expected ± of the published figure.
    """

    report: str
    level: str
    cadence: str
    group_size: int
    label: str
    unit: str
    typical: float
    half_width: float
    one_person: float


def worked_examples(context: DocumentContext) -> tuple[WorkedExample, ...]:
    """For each report and metric, the forecast at the median group size the planner shows.

    The size is shown rounded, so the worked example is computed at that round size: what a
    reader sees is then exactly what the forecast gives for a group of that size.
    """
    examples = []
    for report in context.figures.reports:
        shown = sorted(report.shown, key=lambda group: group.size or 0)
        if not shown:
            continue
        if context.policy.report(report.report_id).kind is ReportKind.NETWORK:
            continue  # its forecast is one edge's interval, already in the planner's figures
        middle = shown[len(shown) // 2]
        size = middle.size or 0
        for index, name in enumerate(report.metrics):
            typical = report.typical[index]
            half_width = expected_half_width(context.policy, report.report_id, size, typical, name)
            examples.append(
                WorkedExample(
                    report=report.title,
                    level=report.level,
                    cadence=report.cadence,
                    group_size=size,
                    label=report.labels[index],
                    unit=report.units[index],
                    typical=report.typical[index],
                    half_width=round(half_width, 2),
                    one_person=report.typical[index] * 2 / size,
                )
            )
    return tuple(examples)


def select_policy(ws: Workspace, policy_id: str | None = None, version: int | None = None) -> StoredPolicy:
    """The version a document is about: the one named, else the active one, else the newest proposed."""
    if policy_id is not None:
        return ws.governance.stored_policy(policy_id, version)
    active = ws.governance.active_policy()
    if active is not None:
        return ws.governance.stored_policy(active.policy_id, active.version)
    versions = ws.governance.policy_versions()
    if not versions:
        raise PolicyError(
            "No policy has been proposed yet, so there is nothing to document.",
            "Write one from `teamlens policy template` and `teamlens policy propose FILE` it.",
        )
    newest = max(versions, key=lambda info: info.created_at)
    return ws.governance.stored_policy(newest.policy_id, newest.version)


def build_document(
    ws: Workspace,
    kind: str,
    *,
    policy_id: str | None = None,
    version: int | None = None,
    suite_file: Path | None = None,
) -> DocumentContext:
    """Gather everything a DPIA, notice, explainer or consultation page shows."""
    stored = select_policy(ws, policy_id, version)
    policy = stored.policy
    required = PROFILE_KINDS.get(kind)
    if required is not None and required not in policy.profile.documents:
        raise PolicyError(
            f"The {kind} document is generated only under a jurisdiction that calls for it; policy "
            f"'{policy.policy_id}' version {policy.version} runs under '{policy.jurisdiction.value}' "
            f"({policy.profile.name}).",
            "Set `jurisdiction` in the policy's [policy] table (a new version), or write another document.",
        )
    epsilon = rho_to_epsilon(policy.rho, policy.delta)
    suite = suite_results(suite_file)
    risks = rated(RISKS, epsilon, store_encrypted=ws.settings.encrypt_store)
    return DocumentContext(
        kind=kind,
        stored=stored,
        sheet=policy_sheet(policy),
        purpose=PURPOSES.get(policy.purpose.value, policy.purpose.value),
        lawful_basis=LAWFUL_BASES.get(policy.lawful_basis.value, policy.lawful_basis.value),
        clause=CLAUSE,
        epsilon=epsilon,
        guarantee=guarantee_sentence(epsilon, policy.delta, policy.min_group_size),
        figures=planner_figures(ws, policy),
        record=ws.governance.consultation(policy.policy_id, policy.version),
        representatives=tuple(
            approval.approver for approval in stored.info.approvals if approval.party is Party.REPRESENTATIVE
        ),
        suite=suite,
        risks=risks,
        evidence=evidence(suite, risks),
        generated_at=f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        keys=registered_keys(ws),
        signoff=ws.governance.dpia_signoff(policy.policy_id, policy.version),
        source_labels=tuple(source_label(name) for name in policy.sources),
        flows=data_flows(ws.settings, policy),
    )


def registered_keys(ws: Workspace) -> tuple[PartyKey, ...]:
    """The parties' keys in force, for printing their fingerprints (empty before any are registered)."""
    keys = ws.governance.registered_keys()
    return () if keys is None else keys.keys


def render(kind: str, context: object) -> str:
    """Render one document's template with its context (and, for the explainer, its examples)."""
    if kind not in KINDS and kind not in PROFILE_KINDS:
        known = ", ".join((*KINDS, *PROFILE_KINDS))
        raise PolicyError(f"There is no document called '{kind}'.", f"Choose one of: {known}.")
    examples = worked_examples(context) if isinstance(context, DocumentContext) else ()
    return TEMPLATES.get_template(f"{kind}.html").render(ctx=context, examples=examples)


def document_html(
    ws: Workspace, kind: str, *, policy_id: str | None = None, version: int | None = None
) -> str:
    """One generated document as a self-contained HTML page."""
    if kind == "register":
        return render(kind, build_register(ws))  # about the installation, not one policy version
    return render(kind, build_document(ws, kind, policy_id=policy_id, version=version))


def in_force_document(ws: Workspace, kind: str) -> str:
    """The notice or explainer of the policy in force, as HTML; ``NoApprovedPolicy`` while teamlens is off."""
    stored = in_force(ws)
    return document_html(ws, kind, policy_id=stored.policy.policy_id, version=stored.policy.version)


def write_document(
    ws: Workspace,
    kind: str,
    out: Path,
    *,
    policy_id: str | None = None,
    version: int | None = None,
    pdf: bool = False,
) -> Path:
    """Write a generated document to ``out`` as HTML, or as PDF when ``pdf`` (needs Chromium)."""
    html = document_html(ws, kind, policy_id=policy_id, version=version)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not pdf:
        _atomic_write(out, html.encode("utf-8"))
        return out
    with tempfile.TemporaryDirectory(prefix="teamlens-doc-") as folder:
        page = Path(folder) / f"{kind}.html"
        page.write_text(html, encoding="utf-8")
        return html_to_pdf(page, out)


def chromium_path() -> str | None:
    """The headless browser used for PDF: ``TEAMLENS_CHROMIUM``, else chromium on the PATH."""
    configured = os.environ.get("TEAMLENS_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(page: Path, out: Path) -> Path:
    """Print an HTML file to PDF with headless Chromium (the only PDF engine teamlens uses)."""
    browser = chromium_path()
    if browser is None:
        raise ConfigError(
            "Cannot write a PDF: no Chromium browser was found.",
            "Install Chromium (Debian: `apt-get install chromium`), set TEAMLENS_CHROMIUM to its path, "
            "or leave out --pdf to write HTML.",
        )
    temporary = out.with_name(out.name + ".tmp.pdf")
    with tempfile.TemporaryDirectory(prefix="teamlens-chromium-") as profile:
        command = [
            browser,
            "--headless",
            "--no-sandbox",  # runs as a service user in containers, where the sandbox cannot start
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={temporary}",
            page.resolve().as_uri(),
        ]
        # The browser path and every argument are ours; the page is a file we just wrote.
        subprocess.run(command, capture_output=True, timeout=180, check=False)  # noqa: S603
    if not temporary.is_file() or temporary.read_bytes()[:5] != b"%PDF-":
        temporary.unlink(missing_ok=True)
        raise ConfigError(
            f"Chromium ({browser}) did not produce a PDF.",
            "Run it by hand with --headless --print-to-pdf to see why, or write HTML instead.",
        )
    temporary.replace(out)
    return out


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


@dataclass(frozen=True)
class SignOffResult:
    """A recorded DPIA sign-off and the exact DPIA HTML whose sha256 it holds."""

    signoff: DpiaSignOff
    dpia_html: str


def sign_off_dpia(
    ws: Workspace,
    policy_id: str,
    version: int,
    *,
    measures_by: str,
    residual_risk: str,
    dpo_advice: str,
    consultation_reviewed_by: str,
    actor: str,
    overruled_because: str | None = None,
) -> SignOffResult:
    """Render the DPIA of one version as signed off, hash it, and record the sign-off (R4 step 7).

    The hashed DPIA is the one the signatories read with its step 7 filled in from this sign-off
    (the DPO's advice as given, the residual risk, who approved the measures), so the document the
    hash names never says "to be completed" about what was recorded with it.
    """
    context = build_document(ws, "dpia", policy_id=policy_id, version=version)
    pending = DpiaSignOff(
        policy_id=context.policy.policy_id,
        version=context.policy.version,
        dpia_sha256="",
        measures_by=measures_by.strip(),
        residual_risk=residual_risk,
        dpo_advice=dpo_advice,
        advice_accepted=overruled_because is None,
        overruled_because=None if overruled_because is None else overruled_because.strip(),
        consultation_reviewed_by=consultation_reviewed_by.strip(),
        signed_by=actor,
        signed_at=ws.governance.now(),
    )
    html = render("dpia", dataclasses.replace(context, signoff=pending))
    digest = hashlib.sha256(html.encode("utf-8")).hexdigest()
    signed = ws.governance.sign_off_dpia(
        policy_id,
        version,
        dpia_sha256=digest,
        measures_by=measures_by,
        residual_risk=residual_risk,
        dpo_advice=dpo_advice,
        consultation_reviewed_by=consultation_reviewed_by,
        actor=actor,
        overruled_because=overruled_because,
    )
    return SignOffResult(signed, html)


def record_notice_version(ws: Workspace, policy_id: str, version: int, *, actor: str) -> Notification:
    """Render the worker notice of a version now in force and tell workers which one applies (R16)."""
    context = build_document(ws, "notice", policy_id=policy_id, version=version)
    digest = hashlib.sha256(render("notice", context).encode("utf-8")).hexdigest()
    return ws.governance.record_notice_version(policy_id, version, digest, context.generated_at, actor)
