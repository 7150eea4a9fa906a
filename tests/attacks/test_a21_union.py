"""A21 — union-activity inference: counts of mail to the union or the representatives.

An mbox of staff mail in which some messages go to the union's domain (and a subdomain of it),
and one copies the representatives' address. The policy excludes those (R18). Pass: every
person's ingested counters equal the counts with those messages removed, for senders and
recipients alike, and nothing stored per person or in the ledger names the union. Teeth: the
same mailbox under a policy without exclusions — the union mail is counted.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from teamlens import services

from ..integration.flow_support import approve_policy, files_under, make_workspace, policy_text
from .harness import directory

UNION = "union.example.org"
REPS = "reps@example.org"


def _mbox(staff: list[str]) -> tuple[str, list[tuple[str, list[str], bool]]]:
    a, b, c, d = staff[:4]
    messages = [
        (a, [b], False),
        (b, [a, c], False),
        (a, [f"steward@{UNION}"], True),
        (c, [REPS, b], True),  # copying the representatives excludes the message for everyone on it
        (d, [f"ballot@branch.{UNION}"], True),
        (d, [a], False),
        (c, [d], False),
    ]
    blocks = []
    for number, (sender, recipients, _) in enumerate(messages, 1):
        blocks.append(
            f"From {sender} Tue Jan  6 10:0{number}:00 2026\n"
            f"From: {sender}\nTo: {', '.join(recipients)}\n"
            f"Date: Tue, 06 Jan 2026 10:0{number}:00 +0000\nMessage-ID: <m{number}@example.org>\n"
            f"Subject: nothing to see\n\nbody\n\n"
        )
    return "".join(blocks), messages


def _install(root: Path, exports: Path, exclusions: bool) -> tuple[object, list[str], list]:
    ws = make_workspace(root)
    services.init(ws)
    text = policy_text(
        **{
            'sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv"]': (
                'sources = ["mail_headers", "hr_directory_csv"]'
            )
        }
    )
    if not exclusions:
        text = text.replace(f'addresses = ["{REPS}"]', "addresses = []").replace(
            f'domains = ["{UNION}"]', "domains = []"
        )
    approve_policy(ws, text, root / "policy.toml")
    staff = sorted(directory(exports / "hr" / "directory.csv")["Email"].str.lower())[:4]
    mbox, messages = _mbox(staff)
    (root / "mail.mbox").write_text(mbox, encoding="utf-8")
    services.ingest(ws, [exports / "hr" / "directory.csv", root / "mail.mbox"], actor="admin")
    return ws, staff, messages


def counters(ws, staff: list[str]) -> dict[tuple[str, str], int]:
    """Each person's stored counters (their own access export: the store's per-person view)."""
    pseudonymise = ws.pseudonymiser()
    found: Counter[tuple[str, str]] = Counter()
    for email in staff:
        for row in ws.store.person_facts(pseudonymise(email)).to_pylist():
            found[(email, row["metric"])] += row["value"]
    return dict(found)


def expected(staff: list[str], messages, include_excluded: bool) -> dict[tuple[str, str], int]:
    out: Counter[tuple[str, str]] = Counter()
    for sender, recipients, excluded in messages:
        if excluded and not include_excluded:
            continue
        out[(sender, "emails_sent")] += 1
        for recipient in set(recipients):
            if recipient in staff:
                out[(recipient, "emails_received")] += 1
    return dict(out)


@pytest.mark.attack("A21")
def test_a21_union_mail_is_dropped_before_counting_and_leaves_no_trace(
    small_exports: Path, tmp_path: Path, measure
) -> None:
    exports = tmp_path / "exports"
    shutil.copytree(small_exports, exports)
    ws, staff, messages = _install(tmp_path / "install", exports, exclusions=True)
    got, want = counters(ws, staff), expected(staff, messages, include_excluded=False)
    measure(a21_counters=len(got), a21_excluded_messages=sum(1 for m in messages if m[2]))
    assert got == want
    services.release(ws, "department-monthly", ["2026-01"], actor="analyst")
    person_files = [p for p in files_under(ws.settings.facts_dir)]
    assert person_files and not any(
        UNION.encode() in p.read_bytes() or b"steward" in p.read_bytes() for p in person_files
    )
    with sqlite3.connect(ws.settings.data_dir / "governance.sqlite") as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            if table in {"policy_versions"}:  # the policy text itself names the exclusions, by design
                continue
            dump = "\n".join(map(str, db.execute(f'SELECT * FROM "{table}"').fetchall()))
            assert UNION not in dump and "steward" not in dump and REPS not in dump, table


@pytest.mark.attack("A21", teeth=True)
def test_a21_teeth_without_exclusions_union_mail_is_counted(small_exports: Path, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    shutil.copytree(small_exports, exports)
    ws, staff, messages = _install(tmp_path / "install", exports, exclusions=False)
    got = counters(ws, staff)
    assert got != expected(staff, messages, include_excluded=False)
    assert got == expected(staff, messages, include_excluded=True)
