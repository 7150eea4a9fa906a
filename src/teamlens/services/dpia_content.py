"""The fixed text of the DPIA: the risks from the attack list, each with its residual rating.

The risks (DPIA step 5, and R39's differencing, reconstruction, re-identification and function
creep) follow Part 2 of the privacy requirements; each names the measure that answers it, the
automated attack tests that check the measure (``tests/attacks``), and the residual risk in a
rating and a sentence that says why. Ratings are not all "low": a risk bounded only by the
differential-privacy budget is rated by the policy's ε (``rated``), the small-group risk stays
"medium" because suppression is decided on the noisy headcount (attack A8's known limit), and a
copy of the data folder is "medium" unless the store is encrypted. The privacy suite's results,
shown against these ratings, are read in ``dpia_evidence.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: How the residual risk of a measure that rests on the DP budget follows the policy's ε.
DP_LOW, DP_MEDIUM = 1.0, 10.0


@dataclass(frozen=True)
class Risk:
    """One risk to workers: what could happen, how likely and severe before and after the measures.

    ``residual`` is the rating after the measures and ``residual_note`` the sentence behind it;
    ``dp_bounded`` risks are rated by the policy's ε and ``store_copy`` by store encryption.
    """

    attack: str
    risk: str
    likelihood: str
    severity: str
    measures: str
    residual: str
    residual_note: str
    dp_bounded: bool = False
    store_copy: bool = False

    @property
    def attack_ids(self) -> tuple[str, ...]:
        """The attack ids this risk names (``A10–A12`` is three of them)."""
        found: list[str] = []
        for part in self.attack.split("(")[0].replace(" ", "").split(","):
            if "–" in part:
                first, last = (int(end.lstrip("A")) for end in part.split("–"))
                found += [f"A{number}" for number in range(first, last + 1)]
            elif part:
                found.append(part)
        return tuple(found)


def _dp(epsilon: float) -> tuple[str, str]:
    if epsilon <= DP_LOW:
        return "low", f"ε ≈ {epsilon:.3g} for the period is a strong bound."
    level = "medium" if epsilon <= DP_MEDIUM else "high"
    return level, (
        f"ε ≈ {epsilon:.3g} for the period is a weak formal bound (an attacker's odds about one person "
        f"may grow up to e^ε-fold in the worst case); the suite's attacks stay far below it, but the "
        "rating follows the guarantee, not the attacks tried."
    )


def rated(risks: tuple[Risk, ...], epsilon: float, *, store_encrypted: bool) -> tuple[Risk, ...]:
    """``risks`` with the residual ratings that depend on the policy's ε and on store encryption."""
    out = []
    for risk in risks:
        if risk.dp_bounded:
            level, why = _dp(epsilon)
            risk = replace(risk, residual=level, residual_note=f"{risk.residual_note} {why}")
        if risk.store_copy and store_encrypted:
            risk = replace(
                risk,
                residual="low",
                residual_note="The fact store is encrypted at rest with a key outside the data folder: "
                "a copy without the key reads as noise; the governance database's per-input counts remain.",
            )
        out.append(risk)
    return tuple(out)


RISKS = (
    Risk(
        "A1, A3",
        "Differencing: comparing a group with the same group plus or minus one person, or one "
        "window with the next, reveals that person's values.",
        "likely",
        "significant",
        "Differential privacy on every released number, with the budget charged for the whole period; "
        "fixed calendar windows only.",
        "",
        "What any combination of releases reveals about one person is bounded by the period's budget.",
        dp_bounded=True,
    ),
    Risk(
        "A2, A10 (R10)",
        "Trackers: free filters or arbitrary groupings isolate one person.",
        "likely",
        "severe",
        "Closed report catalogue agreed in the policy; no free-form query, filter or drill-down; "
        "groups come from the HR directory only.",
        "low",
        "No query can be expressed outside the catalogue, and the catalogue is fixed by both parties.",
    ),
    Risk(
        "A4, A13, A23",
        "Repeating or recombining releases averages the noise away.",
        "likely",
        "severe",
        "Released cells are cached (asking again returns the same numbers at no cost); one ledger per "
        "policy period refuses any release beyond the budget, whoever asks.",
        "low",
        "Repeats return identical numbers and the ledger never exceeds the period's budget.",
    ),
    Risk(
        "A5",
        "Reconstruction of individual values from many released aggregates.",
        "possible",
        "severe",
        "The total budget for the period bounds what all releases together can reveal.",
        "",
        "Reconstruction recovers no more than guessing the majority class in the suite's tests.",
        dp_bounded=True,
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
        "",
        "Whether one person is in a group is protected only as far as the budget protects it.",
        dp_bounded=True,
    ),
    Risk(
        "A7, A12 (R12)",
        "Small groups: a figure about a group of two or three is a figure about a person.",
        "likely",
        "severe",
        "Groups under the minimum size are shown only as “fewer than k”; the floor of "
        "5 is enforced by the software and by a database constraint.",
        "medium",
        "Suppression is decided on the noisy headcount, so a group with fewer than k true members is "
        "sometimes shown (about one release in ten for a 5-person team under the template policy: "
        "attack A8's known limit); its figures are still differentially private, but the promise that "
        "no figure describes fewer than k people does not hold absolutely.",
    ),
    Risk(
        "A8",
        "Re-identification: linking pseudonyms back to people through the org chart.",
        "possible",
        "severe",
        "Keyed HMAC pseudonyms with the key held outside the data; no per-person output in any "
        "channel except a worker's own access export.",
        "medium",
        "No pseudonym can be recomputed from a staff list and no address is stored (A8 passes these "
        "checks); the suite's A8 fails only on the small-group check above, which it keeps as a "
        "known limit rather than hiding it.",
    ),
    Risk(
        "A10–A12",
        "Attacks on the noise itself (floating point, timing, weak randomness).",
        "remote",
        "severe",
        "OpenDP's floating-point-safe discrete Gaussian sampler with a cryptographic RNG.",
        "low",
        "The sampler is OpenDP's, untouched; no timing or precision signal was found.",
    ),
    Risk(
        "A14, A15",
        "Outliers and background knowledge: a manager who knows everyone else solves for the last person.",
        "possible",
        "significant",
        "Per-person contributions clipped to the policy's "
        "bounds; differential privacy holds whatever the attacker knows.",
        "",
        "An outlier moves a total by at most the clip bound; background knowledge does not weaken it.",
        dp_bounded=True,
    ),
    Risk(
        "A16",
        "Insiders loosening the settings or editing the database.",
        "possible",
        "severe",
        "Widening needs both parties; the release job re-verifies the approved policy bytes, both approvals "
        "and the consultation record before every run; tampering stops everything and is logged.",
        "low",
        "A single party cannot widen the policy, and an edited policy stops releases.",
    ),
    Risk(
        "A17",
        "Audit-log tampering to hide a change or an export.",
        "possible",
        "significant",
        "Hash-chained, append-only log; Ed25519-signed checkpoints held by the representative detect "
        "rewriting and truncation.",
        "low",
        "Edits, deletions and truncation are detected against the representative's checkpoints.",
    ),
    Risk(
        "A21 (R18)",
        "Union activity inferred from mail to union addresses.",
        "possible",
        "severe",
        "Messages to or from the policy's excluded addresses and domains are dropped before counting, "
        "look-alike spellings of them included.",
        "low",
        "Nothing of an excluded message is counted or noted.",
    ),
    Risk(
        "A22 (R8)",
        "Leaks through logs, errors or exports.",
        "possible",
        "significant",
        "Errors and logs name files, fields and settings only; audit entries hold ids, hashes and counts.",
        "low",
        "A canary worker's identifiers and values appear in no file, log, response or error.",
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
        "Ranking and attendance-like reports are refused by the catalogue linter.",
    ),
    Risk(
        "A25",
        "One worker's activity read off public pages (per-input counts, hashes and times when one input "
        "is one person's mailbox).",
        "likely",
        "significant",
        "Public pages show an ingestion's day and kind of source only; ingest output hides the rows of "
        "inputs of fewer than k people; the auditors keep the full record.",
        "low",
        "Nothing outside the auditors' view is derived from fewer than k people's data.",
    ),
    Risk(
        "A26",
        "A copy of the data folder (backup, stolen disk) linked to the HR export re-identifies people.",
        "possible",
        "severe",
        "The store keeps only placement data (week dates inside the period, the policy's levels); no time "
        "zone, hours, manager or alias; optional encryption at rest with a key outside the data folder.",
        "medium",
        "Without store encryption, people who joined, left or moved within the period can still be "
        "linked through the directory and their weekly counts read: turn on TEAMLENS_ENCRYPT_STORE.",
        store_copy=True,
    ),
    Risk(
        "A27",
        "One person counted as two through look-alike spellings or proxy addresses, doubling their "
        "weight in a release.",
        "possible",
        "significant",
        "Identifiers normalised (NFKC_Casefold, invisible characters, TR39 confusables) before keyed "
        "hashing; the directory's proxy addresses map to their person.",
        "low",
        "Every tested spelling and alias lands on one pseudonym; aliases apply when the HR export is "
        "ingested with the mail.",
    ),
    Risk(
        "A28",
        "A hostile export exhausting memory or time, stopping the service or leaving partial data.",
        "possible",
        "moderate",
        "Size, ratio, record and line limits in every reader; recurrences bounded to the policy period; "
        "refused files store nothing.",
        "low",
        "Every reader stays within 512 MiB and a minute on the suite's hostile inputs.",
    ),
    Risk(
        "A29",
        "Another account on the server reading the data folder.",
        "possible",
        "significant",
        "Every file teamlens writes in the data folder is 0600 and every folder 0700.",
        "low",
        "Other local accounts cannot read or list the data folder; its owner and root still can.",
    ),
    Risk(
        "A30",
        "A spreadsheet formula in a group name running in a worker's export.",
        "possible",
        "moderate",
        "Every CSV cell starting like a formula is written with a leading apostrophe.",
        "low",
        "No CSV teamlens writes carries a live formula.",
    ),
    Risk(
        "A31",
        "Copies of one message counted several times, inflating a person's counts.",
        "likely",
        "moderate",
        "Messages recognised by a keyed hash of sender, time and recipients across one ingestion.",
        "low",
        "Copies count once within an ingestion; copies ingested in separate runs are not compared.",
    ),
)
