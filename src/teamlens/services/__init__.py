"""The use cases: the only layer that combines sources, store, privacy and governance.

A typical run: :func:`init` an installation, :func:`propose` and :func:`approve` a policy, then
:func:`ingest` exports and :func:`release` catalogue reports; :func:`write_report` renders what
was released. For the parts, see ``workspace.py`` (opening an installation), ``ingest.py``,
``release.py``, ``policy.py``, ``report_document.py``, ``synthetic.py`` and ``demo.py``. The
governance use cases: ``lifecycle.py`` (consultation, workers' views from the web app,
activation, retirement) with ``planner_figures.py`` (the expected error bars representatives see
before signing); ``documents.py`` (DPIA, worker notice, explainer, consultation page; HTML and
PDF) with ``policy_sheet.py`` and ``dpia_content.py``; ``transparency.py`` (the public
register); ``audit.py`` (the audit log, and its public page) with ``audit_checkpoints.py``
(signed checkpoints); ``retention.py`` (R15); ``rights.py`` (access, erasure, objection:
R20–R22: only on the worker's own request, or on the DPO's and representative's signatures)
with ``access_export.py`` (what is held about one worker, as files) and
``exclusions.py`` (objections apply from the next window on); ``sign_in.py`` (what the web app's
sign-in needs: the identity-provider settings, the session key, the pseudonym); ``keys.py`` (the
parties' signing keys: made on their own machines, registered once, used for every decision).
Analysts: ``analysis.py`` (released cells as data frames and export files), ``api_json.py``
(the register and the audit summary as the HTTP API's JSON) and ``api_tokens.py`` (their
personal bearer tokens for that API).
The report: ``report_document.py`` with ``report_questions.py`` (the questions readers ask,
which metric answers which, headlines and comparisons with the organisation),
``report_network.py`` (the collaboration network's heatmap), ``report_cells.py`` (how one
released cell reads), ``report_charts.py`` (trends, comparisons, heatmap) and
``report_freshness.py`` (when it may have changed).
"""

from teamlens.governance import KeySetInfo, PolicyVersionInfo, RightsRequest, SignedDecision, StoredPolicy
from teamlens.services import (
    api_tokens,
    audit_checkpoints,
    key_rotation,
    keys,
    next_steps,
    passkeys,
    rectification,
    report_cells,
    report_freshness,
    union_export,
    works_agreement,
)
from teamlens.services.access_export import HeldData, ReleaseEntered
from teamlens.services.analysis import (
    EXPORT_FORMATS,
    RELEASED_SCHEMA,
    ExportFormat,
    ReleasedReports,
    export_report,
    open_reports,
    released_rows,
)
from teamlens.services.api_json import audit_json, register_json
from teamlens.services.audit import (
    AUDIT_PAGE_SIZE,
    AuditPage,
    BooksCheck,
    PublicEntry,
    audit_entries,
    audit_page,
    verify_audit,
    verify_books,
    verify_store,
)
from teamlens.services.bounds import BoundsSuggestion, MetricSuggestion, suggest_bounds
from teamlens.services.catalogue_planner import CataloguePlan, LevelChoice, group_sizes, plan_catalogue
from teamlens.services.demo import DEMO_PEOPLE, DemoResult, demo_worker, demo_workspace, run_demo
from teamlens.services.documents import (
    SignOffResult,
    build_document,
    document_html,
    html_to_pdf,
    in_force_document,
    registered_keys,
    sign_off_dpia,
    write_document,
)
from teamlens.services.exclusions import Exclusion
from teamlens.services.ingest import FileOutcome, IngestSummary, connector_names, ingest, source_label
from teamlens.services.keys import KeyFile, Signer, decide
from teamlens.services.lifecycle import (
    ANONYMOUS_WORKER,
    WEB_VIEW_MAX,
    ConsultResult,
    OpenConsultation,
    activate,
    comment,
    consult,
    consultation,
    consultation_document,
    not_consulted,
    open_consultation,
    open_consultations,
    respond,
    retire,
    versions,
    worker_view,
)
from teamlens.services.planner_figures import PlannerFigures, planner_figures
from teamlens.services.policy import active, approve, in_force, lift, propose, suspend, template
from teamlens.services.release import release, release_standard_reports, released_tables, tables_as_json
from teamlens.services.report_document import (
    ReportContext,
    build_context,
    render_report,
    save_report,
    write_report,
)
from teamlens.services.retention import RetentionResult, run_retention
from teamlens.services.rights import (
    WORKER_ACTOR,
    Fulfilled,
    SignedInWorker,
    countersign_request,
    exclusion_list,
    fulfil_request,
    my_requests,
    object_to_processing,
    offline_request,
    own_data,
    own_export,
    requests,
    worker_request,
)
from teamlens.services.roles import PRIVILEGED, Role, RoleMap, mapping_approved, role_map
from teamlens.services.scheduler import TickResult, tick
from teamlens.services.setup import InitResult, init
from teamlens.services.sign_in import SignedIn, SignInConfig, session_key, sign_in, sign_in_config
from teamlens.services.synthetic import synthesise
from teamlens.services.transparency import RegisterContext, build_register
from teamlens.services.workspace import Workspace, open_workspace
from teamlens.verify import PartyKey

__all__ = [
    "ANONYMOUS_WORKER",
    "AUDIT_PAGE_SIZE",
    "DEMO_PEOPLE",
    "EXPORT_FORMATS",
    "PRIVILEGED",
    "RELEASED_SCHEMA",
    "WEB_VIEW_MAX",
    "WORKER_ACTOR",
    "AuditPage",
    "BooksCheck",
    "BoundsSuggestion",
    "CataloguePlan",
    "ConsultResult",
    "DemoResult",
    "Exclusion",
    "ExportFormat",
    "FileOutcome",
    "Fulfilled",
    "HeldData",
    "IngestSummary",
    "InitResult",
    "KeyFile",
    "KeySetInfo",
    "LevelChoice",
    "MetricSuggestion",
    "OpenConsultation",
    "PartyKey",
    "PlannerFigures",
    "PolicyVersionInfo",
    "PublicEntry",
    "RegisterContext",
    "ReleaseEntered",
    "ReleasedReports",
    "ReportContext",
    "RetentionResult",
    "RightsRequest",
    "Role",
    "RoleMap",
    "SignInConfig",
    "SignOffResult",
    "SignedDecision",
    "SignedIn",
    "SignedInWorker",
    "Signer",
    "StoredPolicy",
    "TickResult",
    "Workspace",
    "activate",
    "active",
    "api_tokens",
    "approve",
    "audit_checkpoints",
    "audit_entries",
    "audit_json",
    "audit_page",
    "build_context",
    "build_document",
    "build_register",
    "comment",
    "connector_names",
    "consult",
    "consultation",
    "consultation_document",
    "countersign_request",
    "decide",
    "demo_worker",
    "demo_workspace",
    "document_html",
    "exclusion_list",
    "export_report",
    "fulfil_request",
    "group_sizes",
    "html_to_pdf",
    "in_force",
    "in_force_document",
    "ingest",
    "init",
    "key_rotation",
    "keys",
    "lift",
    "mapping_approved",
    "my_requests",
    "next_steps",
    "not_consulted",
    "object_to_processing",
    "offline_request",
    "open_consultation",
    "open_consultations",
    "open_reports",
    "open_workspace",
    "own_data",
    "own_export",
    "passkeys",
    "plan_catalogue",
    "planner_figures",
    "propose",
    "rectification",
    "register_json",
    "registered_keys",
    "release",
    "release_standard_reports",
    "released_rows",
    "released_tables",
    "render_report",
    "report_cells",
    "report_freshness",
    "requests",
    "respond",
    "retire",
    "role_map",
    "run_demo",
    "run_retention",
    "save_report",
    "session_key",
    "sign_in",
    "sign_in_config",
    "sign_off_dpia",
    "source_label",
    "suggest_bounds",
    "suspend",
    "synthesise",
    "tables_as_json",
    "template",
    "tick",
    "union_export",
    "verify_audit",
    "verify_books",
    "verify_store",
    "versions",
    "worker_request",
    "worker_view",
    "works_agreement",
    "write_document",
    "write_report",
]
