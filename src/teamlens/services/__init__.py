"""The use cases: the only layer that combines sources, store, privacy and governance.

A typical run: :func:`init` an installation, :func:`propose` and :func:`approve` a policy, then
:func:`ingest` exports and :func:`release` catalogue reports; :func:`write_report` renders what
was released. For the parts, see ``workspace.py`` (opening an installation), ``ingest.py``,
``release.py``, ``policy.py``, ``report_document.py``, ``synthetic.py`` and ``demo.py``.
"""

from teamlens.services.audit import audit_entries, verify_audit, verify_store
from teamlens.services.demo import DemoResult, run_demo
from teamlens.services.ingest import FileOutcome, IngestSummary, ingest
from teamlens.services.policy import active, approve, propose, suspend, template
from teamlens.services.release import release, release_standard_reports, released_tables, tables_as_json
from teamlens.services.report_document import build_context, render_report, write_report
from teamlens.services.setup import InitResult, init
from teamlens.services.synthetic import synthesise
from teamlens.services.workspace import Workspace, open_workspace

__all__ = [
    "DemoResult",
    "FileOutcome",
    "IngestSummary",
    "InitResult",
    "Workspace",
    "active",
    "approve",
    "audit_entries",
    "build_context",
    "ingest",
    "init",
    "open_workspace",
    "propose",
    "release",
    "release_standard_reports",
    "released_tables",
    "render_report",
    "run_demo",
    "suspend",
    "synthesise",
    "tables_as_json",
    "template",
    "verify_audit",
    "verify_store",
    "write_report",
]
