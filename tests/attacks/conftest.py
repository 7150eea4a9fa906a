"""The attack suite's option, markers, shared organisations and results file.

``--audit-large`` (``make audit``, defined with the ``large`` fixture in ``tests/conftest.py``) runs
the statistical attacks with many more trials and writes ``docs/privacy-audit.md``; without it the
suite keeps to modest trial counts for ``make test``.
Every run merges its outcomes into a results file (see ``suite.py``): ``docs/privacy-suite-results.json``
when TEAMLENS_RECORD_SUITE is set, as `make audit` does (which also rewrites the attack table at
the end of ``docs/privacy-audit.md``), else one in the pytest cache.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from teamlens import services
from teamlens.domain import Policy
from teamlens.governance import GovernanceDB, parse_policy, policy_template
from teamlens.privacy import rho_to_epsilon
from teamlens.services import Workspace
from teamlens.settings import Settings
from teamlens.synth import SynthResult

from ..integration.flow_support import START, Org, approve_policy, build_org, make_workspace, policy_text
from .suite import ATTACKS, merge_results, plain, write_suite_section

_ROOT = Path(__file__).resolve().parents[2]
# `make audit` records the results the DPIA embeds (TEAMLENS_RECORD_SUITE=1); an ordinary test run
# exercises the same writer into the pytest cache, so `make test` leaves the work tree untouched.
RESULTS = (
    _ROOT / "docs" / "privacy-suite-results.json"
    if os.environ.get("TEAMLENS_RECORD_SUITE")
    else _ROOT / ".pytest_cache" / "privacy-suite-results.json"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "attack(id, teeth=False): a privacy attack test (teeth: against a weakened configuration)"
    )
    worker = getattr(config, "workerinput", None)
    if worker is None and getattr(config.option, "numprocesses", None):
        return  # an xdist controller: its workers run the tests and write the results
    run = worker["testrunuid"] if worker else uuid.uuid4().hex
    config.pluginmanager.register(
        _ResultCollector(run, worker["workerid"] if worker else "main"), "teamlens-attack-results"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("attack")
    if marker is not None:
        attack_id = marker.args[0]
        assert attack_id in ATTACKS, f"unknown attack id {attack_id}"
        item.user_properties.append(("attack", {"id": attack_id, "teeth": bool(marker.kwargs.get("teeth"))}))


class _ResultCollector:
    """Gathers attack outcomes in each process that runs tests, and merges them into the results file.

    Under xdist each worker sees only its own tests, and the controller may not load this conftest
    at all (``make test`` collects from ``tests/``), so every worker writes its tests' outcomes to
    a folder of this run and then, under a lock, rebuilds the results file from every worker's
    file written so far: the last worker to finish writes the complete picture.
    """

    def __init__(self, run: str, worker: str) -> None:
        self.folder = Path(tempfile.gettempdir()) / "teamlens-attack-results" / run
        self.worker = worker
        self.tests: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if "attack" not in props:
            return
        entry = self.tests.setdefault(report.nodeid, {"attack": props["attack"], "status": "passed"})
        for key, value in report.user_properties:
            if key == "measure":
                entry.setdefault("measure", {}).update(value)
            elif key == "auditor":
                entry.setdefault("auditor", {}).update(value)
        if report.failed:
            entry["status"] = "failed"
        elif report.skipped and hasattr(report, "wasxfail"):
            entry["status"] = "xfailed"
            entry.setdefault("measure", {}).setdefault("known_issues", []).append(str(report.wasxfail))
        elif report.skipped and entry["status"] == "passed":
            entry["status"] = "skipped"

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.tests:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"{self.worker}.json").write_text(json.dumps(self.tests), encoding="utf-8")
        with (self.folder / "lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            tests: dict[str, dict[str, Any]] = {}
            for part in sorted(self.folder.glob("*.json")):
                tests.update(json.loads(part.read_text(encoding="utf-8")))
            _write(tests)


def _write(tests: dict[str, dict[str, Any]]) -> None:
    outcomes: dict[str, dict[str, Any]] = {}
    auditor: dict[str, Any] = {}
    for entry in tests.values():
        attack = entry["attack"]
        outcome = outcomes.setdefault(
            attack["id"], {"passed": True, "teeth_detected": True, "measure": {}, "ran": False}
        )
        if entry["status"] == "skipped":
            continue
        ok = entry["status"] == "passed"
        if attack["teeth"]:
            outcome["teeth_detected"] = outcome["teeth_detected"] and ok
        else:
            outcome["passed"] = outcome["passed"] and ok
            outcome["ran"] = True
        measure = dict(entry.get("measure", {}))
        issues = measure.pop("known_issues", [])
        outcome["measure"].update(measure)
        if issues:
            outcome["measure"].setdefault("known_issues", []).extend(issues)
        auditor.update(entry.get("auditor", {}))
    ran = {key: value for key, value in outcomes.items() if value["ran"]}
    if ran or auditor:
        merge_results(RESULTS, ran, budget_figures(), auditor or None)
        if os.environ.get("TEAMLENS_RECORD_SUITE"):
            write_suite_section(_ROOT / "docs" / "privacy-audit.md", RESULTS)


def budget_figures() -> dict[str, float]:
    """The demo (template) policy's budget: what the suite's verdicts are stated against."""
    policy = template_policy()
    return {
        "epsilon": round(rho_to_epsilon(policy.rho, policy.delta), 4),
        "delta": policy.delta,
        "rho": float(policy.rho),
    }


def template_policy(**replacements: str) -> Policy:
    """The template policy (the demo's), parsed, with ``old=new`` text replacements."""
    text = policy_template()
    for old, new in replacements.items():
        assert old in text, f"the template no longer contains {old!r}"
        text = text.replace(old, new)
    return parse_policy(text, "template").policy


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def measure(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Record figures for the results file: ``measure(accuracy=0.61, bound=0.66)``."""

    def record(**values: Any) -> None:
        request.node.user_properties.append(("measure", plain(values)))

    return record


@dataclass
class Installation:
    """A ready installation: the synthetic org's exports ingested under the approved template policy."""

    org: Org
    root: Path

    @property
    def ws(self) -> Workspace:
        return self.org.ws


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Installation:
    """120 people over 13 weeks, ingested, nothing released yet. Never release into it: clone it."""
    root = tmp_path_factory.mktemp("pristine")
    org = build_org(root, people=120, weeks=13, seed=5)
    services.ingest(org.ws, [org.exports], actor="admin")
    return Installation(org, root)


def clone(source: Installation, target: Path) -> Installation:
    """A separate installation holding the same data and key (a fresh ledger and release cache)."""
    shutil.copytree(source.root / "data", target / "data")
    shutil.copytree(source.root / "keys", target / "keys")
    ws = Workspace(Settings(data_dir=target / "data", key_file=target / "keys" / "pseudonym.key"))
    org = Org(ws, source.org.exports, source.org.synth, source.org.policy_file)
    return Installation(org, target)


@pytest.fixture
def fresh(pristine: Installation, tmp_path: Path) -> Iterator[Installation]:
    """A clone of the pristine installation for one test (its releases touch nobody else)."""
    installation = clone(pristine, tmp_path / "clone")
    yield installation
    installation.ws.governance.close()


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The template policy as parsed (ρ = 1.5, δ = 1e-6, k = 10)."""
    return template_policy()


@pytest.fixture(scope="session")
def small_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Exports of a 60-person organisation over the 5 weeks of month 2026-01 (copy before editing)."""
    root = tmp_path_factory.mktemp("small")
    services.synthesise(root / "exports", people=60, weeks=5, seed=11, start=START)
    return root / "exports"


def install(root: Path, exports: Path) -> Installation:
    """A new installation under ``root`` with the template policy approved and ``exports`` ingested."""
    ws = make_workspace(root)
    services.init(ws)
    approve_policy(ws, policy_text(), root / "policy.toml")
    services.ingest(ws, [exports], actor="admin")
    synth = SynthResult(
        directory_csv=exports / "hr" / "directory.csv",
        email_reports=tuple(sorted((exports / "m365").glob("EmailActivityUserDetail_*.csv"))),
        teams_reports=tuple(sorted((exports / "m365").glob("TeamsUserActivityUserDetail_*.csv"))),
        people=0,
        teams=0,
        departments=0,
        divisions=0,
    )
    return Installation(Org(ws, exports, synth, root / "policy.toml"), root)


def object_from_the_start(installation: Installation, email: str) -> None:
    """Record ``email``'s objection (R22) as made before the policy period, so it covers every window.

    Objections apply from the next window on; the governance database's documented clock
    parameter dates this one before the period, making the installation a true neighbour
    "D − worker" for every window.
    """
    clock = lambda: dt.datetime(2025, 12, 1, tzinfo=dt.UTC)  # noqa: E731
    with GovernanceDB(installation.ws.settings.governance_url, clock=clock) as governance:
        governance.record_objection(installation.ws.pseudonymiser()(email), actor="dpo")
