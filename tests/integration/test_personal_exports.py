"""People's own mailboxes and calendars, ingested one by one in either order, store each owner's real counts.

The store keeps the last value ingested per person, day and metric. Personal exports (named
after their owner's address) give facts for their owner only, so Alice's and Bob's counts are
what they really did whichever file comes last. Teeth: the same files under names that are not
addresses are read as organisation-wide, and then the order decides what is stored.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from teamlens import services

from ..unit.sources.personal_exports_kit import (
    ALICE,
    BOB,
    CAROL,
    Counts,
    expected_mail,
    expected_meetings,
    mailbox,
    write_calendar,
    write_mailbox,
)
from .flow_support import approve_policy, make_workspace, policy_text

POLICY = policy_text(
    **{
        'sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv"]': (
            'sources = ["mail_headers", "calendar_ics"]'
        ),
        'name = "emails_sent"\nper_week = 100': 'name = "emails_sent"\nper_week = 100\n\n'
        '[[metrics]]\nname = "after_hours_emails"\nper_week = 50\n\n'
        '[[metrics]]\nname = "email_recipients"\nper_week = 500\n\n'
        '[[metrics]]\nname = "long_meetings"\nper_week = 20',
    }
)


def stored_after(root: Path, batches: list[list[Path]]) -> dict[str, Counts]:
    """Each person's stored counts after ingesting ``batches`` one after the other."""
    ws = make_workspace(root)
    services.init(ws)
    approve_policy(ws, POLICY, root / "policy.toml")
    for paths in batches:
        services.ingest(ws, paths, actor="admin")
    pseudonymise = ws.pseudonymiser()
    stored: dict[str, Counts] = {}
    for person in (ALICE, BOB, CAROL):
        rows = ws.store.person_facts(pseudonymise(person)).to_pylist()
        stored[person] = Counter({(row["metric"], row["day"]): row["value"] for row in rows})
    return stored


def exports(folder: Path, *, personal: bool) -> dict[str, list[Path]]:
    """Alice's and Bob's mailbox and calendar, named after them or not."""
    folder.mkdir()
    return {
        owner: [
            write_mailbox(folder, owner, None if personal else f"{owner.split('@')[0]}-mail.mbox"),
            write_calendar(folder, owner, None if personal else f"{owner.split('@')[0]}-calendar.ics"),
        ]
        for owner in (ALICE, BOB)
    }


def test_each_owners_counts_are_their_own_in_either_order(tmp_path: Path) -> None:
    files = exports(tmp_path / "exports", personal=True)
    alice_first = stored_after(tmp_path / "ab", [files[ALICE], files[BOB]])
    bob_first = stored_after(tmp_path / "ba", [files[BOB], files[ALICE]])
    assert alice_first == bob_first
    for person in (ALICE, BOB):
        assert alice_first[person] == expected_mail(person) + expected_meetings(person)
    assert alice_first[CAROL] == Counter()  # no export of her own: nothing partial about her


def test_teeth_read_as_organisation_wide_the_order_decides(tmp_path: Path) -> None:
    files = exports(tmp_path / "exports", personal=False)
    alice_first = stored_after(tmp_path / "ab", [files[ALICE], files[BOB]])
    bob_first = stored_after(tmp_path / "ba", [files[BOB], files[ALICE]])
    assert alice_first != bob_first
    assert bob_first[BOB] != expected_mail(BOB) + expected_meetings(BOB)
    assert alice_first[CAROL] != Counter()


def test_a_folder_holding_a_maildir_beside_other_exports_reads_them_all(tmp_path: Path) -> None:
    # A Maildir inside the folder once made the whole folder one mail input, passing over the rest.
    folder = tmp_path / "exports"
    folder.mkdir()
    write_mailbox(folder, ALICE)
    write_calendar(folder, BOB)
    maildir = folder / BOB
    for part in ("cur", "new", "tmp"):
        (maildir / part).mkdir(parents=True)
    for number, message in enumerate(mailbox(BOB).split("\nFrom ")):
        body = message if number == 0 else "From " + message
        (maildir / "cur" / f"{number}.eml").write_text(body.split("\n", 1)[1], encoding="utf-8")
    stored = stored_after(tmp_path / "store", [[folder]])
    assert stored[ALICE] == expected_mail(ALICE)
    assert stored[BOB] == expected_mail(BOB) + expected_meetings(BOB)
