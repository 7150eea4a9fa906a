"""The fixed text of the DPIA: the risks from the attack list, and the privacy suite's results.

The risks (DPIA step 5, and R39's differencing, reconstruction, re-identification and function
creep) follow Part 2 of the privacy requirements; each names the measure that answers it and the
automated attack test that checks the measure (``tests/attacks``). The suite writes its results
to ``docs/privacy-suite-results.json``; ``suite_results`` reads that file leniently (a list of
results under ``results``/``tests``, each with an id, a title and an outcome) so the DPIA shows
the latest evidence, or says plainly that the suite has not been run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

#: Where the attack suite writes its results, in a source checkout.
SUITE_RESULTS = Path(__file__).resolve().parents[3] / "docs" / "privacy-suite-results.json"


@dataclass(frozen=True)
class Risk:
    """One risk to workers: what could happen, how likely and severe before and after the measures."""

    attack: str
    risk: str
    likelihood: str
    severity: str
    measures: str
    residual: str


RISKS = (
    Risk(
        "A1, A3",
        "Differencing: comparing a group with the same group plus or minus one person, or one "
        "window with the next, reveals that person's values.",
        "likely",
        "significant",
        "Differential privacy on every released number, with the budget charged for the whole period; "
        "fixed calendar windows only.",
        "low",
    ),
    Risk(
        "A2, A10 (R10)",
        "Trackers: free filters or arbitrary groupings isolate one person.",
        "likely",
        "severe",
        "Closed report catalogue agreed in the policy; no free-form query, filter or drill-down; "
        "groups come from the HR directory only.",
        "low",
    ),
    Risk(
        "A4, A13, A23",
        "Repeating or recombining releases averages the noise away.",
        "likely",
        "severe",
        "Released cells are cached (asking again returns the same numbers at no cost); one ledger per "
        "policy period refuses any release beyond the budget, whoever asks.",
        "low",
    ),
    Risk(
        "A5",
        "Reconstruction of individual values from many released aggregates.",
        "possible",
        "severe",
        "The total budget for the period bounds what all releases together can reveal.",
        "low",
    ),
    Risk(
        "A6, A9",
        "Membership inference: learning whether someone is in the data, absent or excluded.",
        "possible",
        "significant",
        "Noisy headcounts; noise added to every group of the level, present or "
        "not; suppression decided on the noisy count. No headcount is published as such, but a "
        "released mean, its interval and the published σ give back the noisy headcount and noisy "
        "total exactly: that is post-processing of the private release, so the guarantee holds.",
        "low",
    ),
    Risk(
        "A7, A12 (R12)",
        "Small groups: a figure about a group of two or three is a figure about a person.",
        "likely",
        "severe",
        "Groups under the minimum size are shown only as “fewer than k”; the floor of "
        "5 is enforced by the software and by a database constraint.",
        "low",
    ),
    Risk(
        "A8",
        "Re-identification: linking pseudonyms back to people through the org chart.",
        "possible",
        "severe",
        "Keyed HMAC pseudonyms with the key held outside the data; no per-person output in any "
        "channel except a worker's own access export.",
        "low",
    ),
    Risk(
        "A10–A12",
        "Attacks on the noise itself (floating point, timing, weak randomness).",
        "remote",
        "severe",
        "OpenDP's floating-point-safe discrete Gaussian sampler with a cryptographic RNG.",
        "low",
    ),
    Risk(
        "A14, A15",
        "Outliers and background knowledge: a manager who knows everyone else solves for the last person.",
        "possible",
        "significant",
        "Per-person contributions clipped to the policy's "
        "bounds; differential privacy holds whatever the attacker knows.",
        "low",
    ),
    Risk(
        "A16",
        "Insiders loosening the settings or editing the database.",
        "possible",
        "severe",
        "Widening needs both parties; the release job re-verifies the approved policy bytes, both approvals "
        "and the consultation record before every run; tampering stops everything and is logged.",
        "low",
    ),
    Risk(
        "A17",
        "Audit-log tampering to hide a change or an export.",
        "possible",
        "significant",
        "Hash-chained, append-only log; Ed25519-signed checkpoints held by the representative detect "
        "rewriting and truncation.",
        "low",
    ),
    Risk(
        "A21 (R18)",
        "Union activity inferred from mail to union addresses.",
        "possible",
        "severe",
        "Messages to or from the policy's excluded addresses and domains are dropped before counting.",
        "low",
    ),
    Risk(
        "A22 (R8)",
        "Leaks through logs, errors or exports.",
        "possible",
        "significant",
        "Errors and logs name files, fields and settings only; audit entries hold ids, hashes and counts.",
        "low",
    ),
    Risk(
        "A24 (R23, R26)",
        "Function creep: team figures used to judge individuals.",
        "possible",
        "significant",
        "Purpose from a closed list that excludes individual evaluation; every output "
        "carries the “not for decisions about individuals” clause; the catalogue is reviewed by both "
        "parties.",
        "low",
    ),
)


@dataclass(frozen=True)
class SuiteResult:
    """One test of the privacy attack suite."""

    test: str
    title: str
    outcome: str


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


def _result(item: dict[str, object]) -> SuiteResult:
    test = str(item.get("id") or item.get("attack") or item.get("name") or item.get("nodeid") or "?")
    title = str(item.get("title") or item.get("description") or item.get("criterion") or "")
    outcome = item.get("outcome") or item.get("status")
    if outcome is None and isinstance(item.get("passed"), bool):
        outcome = "passed" if item["passed"] else "failed"
    return SuiteResult(test, title, str(outcome or "unknown"))
