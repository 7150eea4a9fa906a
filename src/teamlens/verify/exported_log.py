"""Check an audit log exported with ``teamlens audit export``, trusting nothing the server says.

The export is JSON lines, one entry each: ``seq``, ``at``, ``actor``, ``action``, ``details``,
``prev_hash`` and ``hash``. :func:`verify_entries` re-computes the hash chain, replays every key
registration (``keys.register``) under :func:`~teamlens.verify.rules.key_set_problem`, and checks
every signed decision (an entry whose details carry ``signed``, and every entry of an action that
must be signed) against the key set in force at that point. ``trusted`` fingerprints — the ones
the representative holds, or reads off the notice — must be in the key set at the end: a log
whose whole key history was made up fails there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from teamlens.verify.rules import DECISION_PARTIES, KeySet, decision_problem, key_set_problem, read_key_set
from teamlens.verify.signatures import canonical_json

GENESIS_HASH = "0" * 64
#: Fields a decision's audit entry repeats from its signed statement; they must agree.
_BOUND_FIELDS = ("policy_id", "version", "party", "sha256", "request_id")


def entry_hash(
    seq: int, at: str, actor: str, action: str, details: Mapping[str, object], prev_hash: str
) -> str:
    """The hash that chains one entry to the one before it."""
    payload = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def must_be_signed(action: str, details: Mapping[str, Any]) -> bool:
    """Whether an entry records a party's decision (so must carry its signature).

    Every action in ``DECISION_PARTIES`` is one, except an activation teamlens made by itself
    when the second approval came in (it names no party).
    """
    if action == "policy.activate":
        return "party" in details
    return action in DECISION_PARTIES


def signed_entry_problem(action: str, details: Mapping[str, Any], keys: KeySet | None) -> str:
    """Why the decision an audit entry records is not validly signed; "" when it is."""
    signed = details.get("signed")
    if not isinstance(signed, dict):
        return "it records a party's decision without its signature"
    statement, signature = signed.get("statement"), signed.get("signature")
    if not isinstance(statement, dict) or not isinstance(signature, dict):
        return "its signature record is malformed"
    if statement.get("action") != action:
        return f"its signature is for '{statement.get('action')}', not '{action}'"
    for name in _BOUND_FIELDS:
        if name in details and details[name] != statement.get(name):
            return f"its {name} is not the {name} that was signed"
    return decision_problem(statement, signature, keys)


@dataclass
class LogReport:
    """What :func:`verify_entries` found: counts, the final key set, and the first problem."""

    entries: int = 0
    decisions: int = 0
    key_sets: int = 0
    keys: KeySet | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was wrong."""
        return not self.problems


def verify_entries(entries: Iterable[Mapping[str, Any]], trusted: Sequence[str] = ()) -> LogReport:
    """Check an exported log's chain, key registrations and signed decisions (module docstring)."""
    report = LogReport()
    prev_hash, expected_seq = GENESIS_HASH, 1
    for entry in entries:
        seq, details = entry.get("seq"), entry.get("details")
        if seq != expected_seq or not isinstance(details, dict):
            report.problems.append(f"entry {expected_seq} is missing or malformed")
            return report
        fields = (entry.get("at"), entry.get("actor"), entry.get("action"), entry.get("prev_hash"))
        if not all(isinstance(value, str) for value in fields):
            report.problems.append(f"entry {seq} is malformed")
            return report
        at, actor, action, stated_prev = (str(value) for value in fields)
        if stated_prev != prev_hash or entry_hash(seq, at, actor, action, details, prev_hash) != entry.get(
            "hash"
        ):
            report.problems.append(f"entry {seq} was altered, removed or reordered (the chain breaks here)")
            return report
        problem = _check_entry(report, action, details)
        if problem:
            report.problems.append(f"entry {seq} ({action}): {problem}")
        report.entries += 1
        prev_hash, expected_seq = str(entry["hash"]), expected_seq + 1
    for fingerprint in trusted:
        wanted = fingerprint.replace(" ", "").replace(":", "").lower()
        if report.keys is None or report.keys.key(wanted) is None:
            report.problems.append(
                f"the key {fingerprint} you trust is not in the log's key set: "
                "the log's keys are not the parties' keys"
            )
    return report


def _check_entry(report: LogReport, action: str, details: Mapping[str, Any]) -> str:
    if action == "keys.register":
        signed = details.get("signed")
        if not isinstance(signed, dict) or not isinstance(signed.get("statement"), dict):
            return "the key registration carries no signed key set"
        statement, signatures = signed["statement"], signed.get("signatures")
        if not isinstance(signatures, list):
            return "the key registration carries no signatures"
        problem = key_set_problem(statement, signatures, report.keys)
        if not problem:
            report.keys = read_key_set(statement)
            report.key_sets += 1
        return problem
    if must_be_signed(action, details) or "signed" in details:
        report.decisions += 1
        return signed_entry_problem(action, details, report.keys)
    return ""


def read_export(lines: Iterable[str]) -> Iterable[Mapping[str, Any]]:
    """The entries of a JSON-lines export (blank lines skipped); ValueError naming a bad line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise ValueError(f"line {number} is not JSON") from None
        if not isinstance(entry, dict):
            raise ValueError(f"line {number} is not an audit entry")
        yield entry
