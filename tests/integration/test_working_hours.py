"""After-hours email is judged in each person's own time zone and hours, taken from the HR directory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from teamlens import services
from teamlens.pseudonymise import Pseudonymiser, load_key

from .flow_support import approve_policy, make_workspace, policy_text

DIRECTORY = (
    ("Email,Team,Department,Division,Valid From,Valid To,Working Hours Start,Working Hours End,Time Zone\n")
    + """ana@example.org,Alpha,D,X,2025-01-01,,09:00,17:30,Europe/London
kenji@example.org,Alpha,D,X,2025-01-01,,09:00,17:30,Asia/Tokyo
"""
)


def _message(sender: str, when: dt.datetime, number: int) -> str:
    return (
        f"From {sender} {when:%a %b %d %H:%M:%S %Y}\n"
        f"From: {sender}\nTo: team@example.org\nDate: {when:%a, %d %b %Y %H:%M:%S +0000}\n"
        f"Message-ID: <m{number}@example.org>\nSubject: x\n\nbody\n\n"
    )


def test_the_same_utc_hour_is_after_hours_in_london_but_not_in_tokyo(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    services.init(ws)
    text = policy_text(
        **{
            'sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv"]': (
                'sources = ["hr_directory_csv", "mail_headers"]'
            ),
            'name = "emails_sent"\nper_week = 100': 'name = "emails_sent"\nper_week = 100\n\n'
            '[[metrics]]\nname = "after_hours_emails"\nper_week = 50',
        }
    )
    approve_policy(ws, text, tmp_path / "policy.toml")
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "directory.csv").write_text(DIRECTORY)
    # Tuesday 3 March 2026, 23:00 UTC: 23:00 in London, 08:00 on Wednesday in Tokyo (before 09:00);
    # 02:00 UTC Wednesday: 02:00 in London, 11:00 in Tokyo (working hours).
    late = dt.datetime(2026, 3, 3, 23, 0)
    mid = dt.datetime(2026, 3, 4, 2, 0)
    (exports / "mail.mbox").write_text(
        _message("ana@example.org", late, 1)
        + _message("kenji@example.org", late, 2)
        + _message("ana@example.org", mid, 3)
        + _message("kenji@example.org", mid, 4)
    )
    services.ingest(ws, [exports], actor="admin")
    pseudonym = Pseudonymiser(load_key(ws.settings.key_file))
    after_hours = {}
    for name in ("ana", "kenji"):
        facts = ws.store.person_facts(pseudonym(f"{name}@example.org")).to_pylist()
        after_hours[name] = sum(f["value"] for f in facts if f["metric"] == "after_hours_emails")
    assert after_hours == {"ana": 2, "kenji": 1}
