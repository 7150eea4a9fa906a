"""After-hours email is judged in each person's own time zone and hours, taken from the HR directory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from teamlens import services
from teamlens.pseudonymise import Pseudonymiser, load_key

from .flow_support import mail_workspace, mbox_message

DIRECTORY = (
    ("Email,Team,Department,Division,Valid From,Valid To,Working Hours Start,Working Hours End,Time Zone\n")
    + """ana@example.org,Alpha,D,X,2025-01-01,,09:00,17:30,Europe/London
kenji@example.org,Alpha,D,X,2025-01-01,,09:00,17:30,Asia/Tokyo
"""
)


def test_the_same_utc_hour_is_after_hours_in_london_but_not_in_tokyo(tmp_path: Path) -> None:
    ws = mail_workspace(tmp_path, after_hours=True)
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "directory.csv").write_text(DIRECTORY)
    # Tuesday 3 March 2026, 23:00 UTC: 23:00 in London, 08:00 on Wednesday in Tokyo (before 09:00);
    # 02:00 UTC Wednesday: 02:00 in London, 11:00 in Tokyo (working hours).
    late = dt.datetime(2026, 3, 3, 23, 0)
    mid = dt.datetime(2026, 3, 4, 2, 0)
    (exports / "mail.mbox").write_text(
        mbox_message("ana@example.org", late, 1)
        + mbox_message("kenji@example.org", late, 2)
        + mbox_message("ana@example.org", mid, 3)
        + mbox_message("kenji@example.org", mid, 4)
    )
    services.ingest(ws, [exports], actor="admin")
    pseudonym = Pseudonymiser(load_key(ws.settings.key_file))
    after_hours = {}
    for name in ("ana", "kenji"):
        facts = ws.store.person_facts(pseudonym(f"{name}@example.org")).to_pylist()
        after_hours[name] = sum(f["value"] for f in facts if f["metric"] == "after_hours_emails")
    assert after_hours == {"ana": 2, "kenji": 1}
