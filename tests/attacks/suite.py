"""The attack catalogue (names and pass criteria) and the machine-readable results file.

Every attack test carries ``@pytest.mark.attack("A<n>")`` (or ``teeth=True`` for the test that
runs the same attack against a deliberately weakened configuration). ``conftest.py`` collects
the outcomes and the measures tests record, and after each run merges them into
``docs/privacy-suite-results.json``, which the DPIA generator embeds as evidence (R37):

    {"generated_at", "epsilon", "delta", "rho",
     "attacks": [{"id", "name", "passed", "measure", "criterion", "teeth_detected"}],
     "auditor": {...}}

``passed`` is true when every test of the attack passed against the real configuration (a
known bug, marked xfail, counts as not passed); ``teeth_detected`` when every teeth test
passed, i.e. the attack did succeed against the weakened configuration.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ATTACKS: dict[str, tuple[str, str]] = {
    "A1": (
        "Differencing: team vs team minus one",
        "attacker accuracy at low/high ≤ e^ε/(1+e^ε) + 0.02 and ≤ Φ(μ/2) + 5 SE (μ over the measured "
        "vectors the worker moves); empirical ε lower bound ≤ configured ε on the measurements, the "
        "released total and mean; through the service the kept measurements spread with the plan's σ "
        "and published totals with their reported SD around the store's exact totals; noise off reaches "
        "100%; halved noise (in the auditor and in the service), totals left unblurred under the usual σ, "
        "consistency from unnoised totals and headcounts carried past their span are caught",
    ),
    "A2": (
        "Tracker and overlapping-group attacks",
        "organisation − Σ shown departments isolating an unplaced worker: error SD ≥ 0.9 × the "
        "least-squares SD of that key, low/high guess ≤ Φ(μ/2) + 5 SE; noise off recovers it exactly",
    ),
    "A3": (
        "Time-window and churn differencing",
        "unaligned or foreign-cadence windows refused (50 random ranges); joiner low/high accuracy "
        "≤ e^ε/(1+e^ε) + 0.02 and ≤ Φ(√(2ρ_period)/2) + 5 SE with the vectors' whole-period ρ; a "
        "per-bucket budget is refused by the engine and beats the bound without its check",
    ),
    "A4": (
        "Repeated-query averaging",
        "1,000 repeats (250 in CI) and 20 syntactic variants byte-identical, ledger charged once, "
        "variance of the running average 0; a block is measured once, another report over it costs "
        "nothing and never changes published numbers",
    ),
    "A5": (
        "Reconstruction by least squares",
        "fraction of binary attributes recovered ≤ majority-class baseline + 0.05 for n ∈ {30,100,300}; "
        "noise off with k-suppression recovers ≥ 90%",
    ),
    "A6": (
        "Membership inference",
        "AUC ≤ 0.5 + (e^ε−1)/(e^ε+1)·0.5 + 0.02 and ≤ Φ(μ/√2) + 5 SE; no field named like a count; the "
        "published person-weeks spread around the true ones by ≥ 0.9 × the headcount noise",
    ),
    "A7": (
        "Complementary suppression and suppression as a signal",
        "parent − Σ released siblings recovers suppressed children with standardised error SD ≥ 0.9 "
        "(against their least-squares SD); suppression markers byte-identical for 0, 1 and k−1 members; "
        "through the service a directory department with no one in it is published as suppressed "
        "(groups taken from the data are caught)",
    ),
    "A8": (
        "Re-identification of pseudonyms",
        "0 stored pseudonyms match SHA-256 or unkeyed-HMAC guesses; no e-mail address in per-person "
        "files; every released group ≥ k true members",
    ),
    "A9": (
        "Inference from report metadata",
        "payload schemas identical at k−1, k, k+1 and with an objection; no integer field but the "
        "policy's version and k (the noisy person-weeks are published on purpose, see A6); web "
        "latency (alternating requests, middle 80%) Welch p > 0.01 or |Δ| < 5 ms; no error template "
        "names a person or group",
    ),
    "A10": (
        "Floating-point and precision attacks on noise",
        "no sampler import on the release path; integer outputs; no value seen ≥ 100 times on one "
        "input and never on the other; empirical ε ≤ ε; a naive float Laplace is caught",
    ),
    "A11": (
        "Timing side channel in noise sampling",
        "no web route calls the sampler (responses come from the release cache)",
    ),
    "A12": (
        "Weak or predictable randomness",
        "two installations with identical input release different noise, one installation repeats "
        "identically; two releases measure their blocks with uncorrelated noise (draws reused by the "
        "next release are caught); the pseudonymisation key is in no file, log or dump",
    ),
    "A13": (
        "Privacy-budget accounting pitfalls",
        "colluding analysts share one ledger; Σ release charges = ledger ≤ ρ; over-budget refused; "
        "one worker moves a block's weekly vector by ≤ the L2 bound and a true total by ≤ per_week × "
        "weeks; one group per person per window; no reset in the period",
    ),
    "A14": (
        "Outliers and dominance",
        "a 50× outlier moves the true total by ≤ per_week × weeks and the measurements by μ ≤ the "
        "worst case; empirical ε lower bound ≤ configured ε; unclipped it is caught",
    ),
    "A15": (
        "Background knowledge of all but one",
        "same bound as A1 with the attacker knowing every other member's exact value",
    ),
    "A16": (
        "Insider loosening of settings",
        "single-party widening stays inactive; an edited policy row stops releases and is logged; "
        "the database refuses k < 5",
    ),
    "A17": (
        "Audit-log tampering",
        "an edited entry is reported at its index; a deleted entry and a truncated tail are detected",
    ),
    "A21": (
        "Union-activity inference",
        "ingested counters equal the counts without union and representatives' mail; no union domain stored",
    ),
    "A22": (
        "Leaks through logs, files, errors (canary)",
        "no canary identifier or raw value in any file, log, stdout/stderr or HTTP response, failures "
        "included",
    ),
    "A23": (
        "Cross-release and export recombination",
        "after every scheduled release of the period the ledger ≤ ρ and equals Σ charges; re-downloads "
        "cost nothing and are identical",
    ),
    "A24": (
        "Function creep through the catalogue",
        "every report declares level and cadence, k ≥ 5, no ranking or attendance-like report at team "
        "level; a crafted ranking/attendance policy fails the linter",
    ),
    "A25": (
        "One worker's activity on the public pages",
        "after one mailbox per person is ingested, the public audit page, the register and the ingest "
        "command's output hold no per-file row count, content hash or time of day of an ingestion "
        "(nothing from fewer than k people); teeth: entries shown as recorded give every count",
    ),
    "A26": (
        "A copy of the data folder re-identifies everyone without the key",
        "stored directory: stored columns only, Monday dates inside the period, unused levels empty, no "
        "time zone, hours, manager or alias in any file; HR-export linkage links only people who changed "
        "in the period (teeth: exact dates link ≥ 90%); encrypted store unreadable without the key, no "
        "pseudonym in its bytes (teeth: plain store holds them)",
    ),
    "A27": (
        "One person, two pseudonyms (look-alike identifiers)",
        "every spelling of an address with capitals, full-width letters, Cyrillic/Greek look-alikes "
        "or invisible characters gets its pseudonym (Hypothesis, 400 examples); ASCII pseudonyms "
        "unchanged; a sender under five spellings is one person; teeth: trim+lower splits them",
    ),
    "A28": (
        "Small files, huge memory or time (reader resource exhaustion)",
        "every reader on hostile inputs (ZIP bomb, huge record, deep nesting, unbounded and counted "
        "recurrences, 5,000 events, giant header, line, row and page, a 30,000-user SCIM document, a "
        "gzip page from a live service) stays under RLIMIT_DATA 512 MiB and 60 s, refusing with the "
        "file named where it must; a refused file stores nothing; teeth: limits off, the bomb exhausts "
        "memory and the recurrence the time",
    ),
    "A29": (
        "Files readable by other local accounts",
        "after a full flow under umask 022 every file in the data folder is 0600 and every folder 0700, "
        "the governance database included; teeth: modes left to the umask are found",
    ),
    "A30": (
        "Spreadsheet formulas in CSV files (CSV injection)",
        "every CSV writer in src/ escapes its cells; a team named =HYPERLINK(…) reaches the worker's "
        "access export as text; no cell of any written CSV starts with =, +, -, @, tab or CR",
    ),
    "A31": (
        "Duplicated messages counted twice",
        "a sent message filed under sent, _sent_mail and sent_items with new Message-IDs, a copy in "
        "another file of the ingestion and a copied Graph message count once; differing messages "
        "count apart, and once per owner in two people's mailboxes; teeth: Message-ID alone overcounts",
    ),
    "A32": (
        "Ledger reset: deleting or editing the books to release again",
        "after deleting a release's ledger, release, measured-block, measurement or published-cell rows "
        "(any subset) or editing a kept noisy value: never fresh noise or fresh budget; refused with "
        "BooksMismatch and recorded; `audit verify` fails; the books check off gives fresh noise",
    ),
}


def plain(value: Any) -> Any:
    """``value`` as plain JSON types (xdist sends test reports between processes; numpy cannot go)."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, int):
        return value
    return str(value)


def merge_results(
    path: Path,
    outcomes: Mapping[str, Mapping[str, Any]],
    budget: Mapping[str, float],
    auditor: Mapping[str, Any] | None,
) -> None:
    """Merge this run's outcomes into the results file, keeping attacks this run did not touch."""
    previous: dict[str, Any] = {}
    if path.exists():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            previous = {}
    by_id = {entry["id"]: entry for entry in previous.get("attacks", []) if isinstance(entry, dict)}
    for attack_id, outcome in outcomes.items():
        name, criterion = ATTACKS[attack_id]
        by_id[attack_id] = {
            "id": attack_id,
            "name": name,
            "passed": bool(outcome["passed"]),
            "measure": dict(outcome["measure"]),
            "criterion": criterion,
            "teeth_detected": bool(outcome["teeth_detected"]),
        }
    document = {
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        **budget,
        "attacks": [by_id[key] for key in _ordered(by_id)],
        "auditor": dict(auditor) if auditor is not None else previous.get("auditor", {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


#: Where the attack suite's table starts in docs/privacy-audit.md (everything after it is rewritten).
SUITE_SECTION = "<!-- The attack suite: written by tests/attacks/suite.py from the results file. -->"


def write_suite_section(doc: Path, results: Path) -> None:
    """Rewrite the attack suite's table at the end of ``doc`` from the results file."""
    data = json.loads(results.read_text(encoding="utf-8"))
    lines = [
        SUITE_SECTION,
        "",
        "## The attack suite",
        "",
        f"Every attack of `tests/attacks` as last recorded in `docs/privacy-suite-results.json` "
        f"({data.get('generated_at', '?')}), stated against the template policy (ρ = {data.get('rho')}, "
        f"δ = {data.get('delta')}, ε = {data.get('epsilon')}). *Passed*: every test of the attack passed "
        "against the real configuration (a known issue, marked as an expected failure, counts as not "
        "passed). *Teeth*: every teeth test caught the deliberately weakened configuration.",
        "",
        "| attack | name | passed | teeth | criterion |",
        "|---|---|---|---|---|",
    ]
    issues = []
    for entry in data.get("attacks", []):
        passed = "yes" if entry.get("passed") else "**no**"
        teeth = "caught" if entry.get("teeth_detected") else "**not caught**"
        criterion = str(entry["criterion"]).replace("|", "\\|")
        lines.append(f"| {entry['id']} | {entry['name']} | {passed} | {teeth} | {criterion} |")
        issues += [f"- {entry['id']}: {issue}" for issue in entry.get("measure", {}).get("known_issues", [])]
    if issues:
        lines += ["", "Known issues (tests marked as expected failures until they are fixed):", "", *issues]
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Empirical privacy audit\n"
    head = text.split(SUITE_SECTION)[0].rstrip()
    doc.write_text(head + "\n\n" + "\n".join(lines) + "\n", encoding="utf-8")


def _ordered(ids: Iterable[str]) -> list[str]:
    return sorted(ids, key=lambda key: int(key[1:]))
