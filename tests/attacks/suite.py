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
        "attacker accuracy at low/high ≤ e^ε/(1+e^ε) + 0.02 and ≤ Φ(√(2ρ_seen)/2) + 5 SE; "
        "empirical ε lower bound ≤ configured ε; noise off reaches 100%",
    ),
    "A2": (
        "Tracker and overlapping-group attacks",
        "every expressible query pair isolating < k people leaves the isolated value's mean absolute "
        "error ≥ 0.9 × the DP noise's; noise off recovers it exactly",
    ),
    "A3": (
        "Time-window and churn differencing",
        "unaligned or foreign-cadence windows refused (50 random ranges); joiner low/high accuracy "
        "≤ e^ε/(1+e^ε) + 0.02 and ≤ Φ(√(2ρ_period)/2) + 5 SE with the per-period ρ",
    ),
    "A4": (
        "Repeated-query averaging",
        "1,000 repeats (250 in CI) and 20 syntactic variants byte-identical, ledger charged once, "
        "variance of the running average 0",
    ),
    "A5": (
        "Reconstruction by least squares",
        "fraction of binary attributes recovered ≤ majority-class baseline + 0.05 for n ∈ {30,100,300}; "
        "noise off with k-suppression recovers ≥ 90%",
    ),
    "A6": (
        "Membership inference",
        "AUC ≤ 0.5 + (e^ε−1)/(e^ε+1)·0.5 + 0.02 and ≤ Φ(μ/√2) + 5 SE; no released field is a headcount "
        "(the noisy headcount that σ and the interval give back is A9's)",
    ),
    "A7": (
        "Complementary suppression and suppression as a signal",
        "parent − Σ released siblings recovers a suppressed child with error SD ≥ 0.95 × its noise SD; "
        "suppression markers byte-identical for 0, 1 and k−1 members",
    ),
    "A8": (
        "Re-identification of pseudonyms",
        "0 stored pseudonyms match SHA-256 or unkeyed-HMAC guesses; no e-mail address in per-person "
        "files; every released group ≥ k true members",
    ),
    "A9": (
        "Inference from report metadata",
        "payload schemas identical at k−1, k, k+1 and with an objection; no headcount field, and the "
        "headcount that a cell's mean, interval and σ give back is exactly the noisy headcount (post-"
        "processing: the guarantee holds), never the true one; web latency Welch p > 0.01 or |Δ| < 5 ms; "
        "no error template names a person or group",
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
        "identically; the pseudonymisation key is in no file, log or dump",
    ),
    "A13": (
        "Privacy-budget accounting pitfalls",
        "colluding analysts share one ledger; Σ release charges = ledger ≤ ρ; over-budget refused; "
        "one worker moves a true total by ≤ C; one group per person per window; no reset in the period",
    ),
    "A14": (
        "Outliers and dominance",
        "a 50× outlier moves the true total by ≤ the clip bound; empirical ε lower bound ≤ configured ε",
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


_SECTION_START = "<!-- attack suite: written by make audit -->"
_SECTION_END = "<!-- end of attack suite -->"


def write_audit_section(doc: Path, results: Path) -> None:
    """Put the table of every attack's result into ``doc`` (``docs/privacy-audit.md``), replacing the last."""
    data = json.loads(results.read_text(encoding="utf-8"))
    lines = [
        _SECTION_START,
        "## The attack suite",
        "",
        f"Every attack of `tests/attacks` (run {data.get('generated_at', '?')}); the DPIA shows each "
        "result with the residual risk it supports.",
        "",
        "| attack | what it tries | result | teeth caught | pass criterion |",
        "|---|---|---|---|---|",
    ]
    for entry in data.get("attacks", []):
        issues = entry.get("measure", {}).get("known_issues", [])
        result = "passed" if entry["passed"] else ("known limit: " + " ".join(issues) if issues else "FAILED")
        teeth = "yes" if entry.get("teeth_detected") else "no"
        cells = [entry["id"], entry["name"], result, teeth, entry["criterion"]]
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |")
    lines += [_SECTION_END, ""]
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Empirical privacy audit\n"
    if _SECTION_START in text:
        text = text[: text.index(_SECTION_START)].rstrip("\n") + "\n"
    doc.write_text(text.rstrip("\n") + "\n\n" + "\n".join(lines), encoding="utf-8")


def _ordered(ids: Iterable[str]) -> list[str]:
    return sorted(ids, key=lambda key: int(key[1:]))
