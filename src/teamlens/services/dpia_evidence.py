"""The privacy attack suite's results, read for the DPIA and set against each risk's residual rating.

The suite writes ``docs/privacy-suite-results.json`` (``tests/attacks/suite.py``); ``suite_results``
reads it leniently (a list under ``attacks``, ``results`` or ``tests``, each with an id, a name or
title and an outcome or ``passed``) so the DPIA shows the latest evidence, or says plainly that the
suite has not been run. ``evidence`` pairs each attack's result with the residual-risk sentence
that agrees with it: the risk's own when the attack passed; the known limit, in its own words,
when it was kept as one (a strict xfail); and "high until it passes" when it failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from teamlens.services.dpia_content import Risk

#: Where the attack suite writes its results, in a source checkout.
SUITE_RESULTS = Path(__file__).resolve().parents[3] / "docs" / "privacy-suite-results.json"


@dataclass(frozen=True)
class SuiteResult:
    """One attack of the privacy suite: its id, what it checks, its outcome and any known limit."""

    test: str
    title: str
    outcome: str
    known_issues: tuple[str, ...] = ()


@dataclass(frozen=True)
class SuiteResults:
    """The privacy suite's latest results; ``status`` is "not yet run", "unreadable" or "available"."""

    status: str
    generated_at: str
    results: tuple[SuiteResult, ...]

    @property
    def passed(self) -> int:
        """How many tests passed."""
        return sum(1 for result in self.results if result.outcome in ("passed", "pass", "ok"))


@dataclass(frozen=True)
class Evidence:
    """One row of the DPIA's evidence table: an attack's result and the residual risk it supports."""

    attack: str
    title: str
    outcome: str
    residual: str
    residual_note: str


def suite_results(path: Path | None = None) -> SuiteResults:
    """Read the attack suite's results file, or say why there are none."""
    path = path or SUITE_RESULTS
    if not path.is_file():
        return SuiteResults("not yet run", "", ())
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return SuiteResults("unreadable", "", ())
    items = (
        data
        if isinstance(data, list)
        else next(
            (data[key] for key in ("results", "tests", "attacks") if isinstance(data.get(key), list)), []
        )
    )
    results = tuple(_result(item) for item in items if isinstance(item, dict))
    when = "" if isinstance(data, list) else str(data.get("generated_at") or data.get("created") or "")
    return SuiteResults("available", when, results)


def evidence(suite: SuiteResults, risks: tuple[Risk, ...]) -> tuple[Evidence, ...]:
    """Each attack's result with the residual-risk rating and sentence that agree with it."""
    by_attack = {attack: risk for risk in risks for attack in risk.attack_ids}
    rows = []
    for result in suite.results:
        risk = by_attack.get(result.test)
        if result.outcome in ("passed", "pass", "ok"):
            level = risk.residual if risk else "not rated"
            note = risk.residual_note if risk else "This attack is not in the risk register."
        elif result.known_issues:
            level = "medium"
            note = "Kept as a known limit: " + " ".join(result.known_issues)
        else:
            level = "high"
            note = "The check failed in this run: the measure is not shown to work; high until it passes."
        rows.append(Evidence(result.test, result.title, result.outcome, level, note))
    return tuple(rows)


def _result(item: dict[str, object]) -> SuiteResult:
    test = str(item.get("id") or item.get("attack") or item.get("name") or item.get("nodeid") or "?")
    names = ("title", "name", "description", "criterion")
    title = str(next((item[key] for key in names if item.get(key)), ""))
    outcome = item.get("outcome") or item.get("status")
    measure = item.get("measure")
    issues = measure.get("known_issues", []) if isinstance(measure, dict) else []
    known = tuple(str(issue) for issue in issues) if isinstance(issues, list) else ()
    if outcome is None and isinstance(item.get("passed"), bool):
        outcome = "passed" if item["passed"] else ("known limit" if known else "failed")
    return SuiteResult(test, title, str(outcome or "unknown"), known)
