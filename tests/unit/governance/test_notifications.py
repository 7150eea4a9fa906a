"""R6 and R16: lapse, activation and suspension notify workers and the parties; notice versions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from freezegun import freeze_time

from teamlens.errors import PolicyError
from teamlens.governance import GovernanceDB, Party

from .helpers import activate, sign

PID = "collaboration-2026h1"  # the template's review_date is 2027-07-05


@pytest.fixture
def real_clock_db(database_url: str) -> Iterator[GovernanceDB]:
    with GovernanceDB(database_url) as governance:
        yield governance


def kinds(db: GovernanceDB, audience: str) -> list[str]:
    return [n.kind for n in db.notifications(audience)]


def test_activation_tells_workers(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    assert kinds(db, "workers") == ["policy.activated"]
    assert kinds(db, "employer") == kinds(db, "representative") == []
    [sent] = db.notifications("workers")
    assert (sent.policy_id, sent.version) == (PID, 1)


def test_a_lapse_notifies_both_parties_and_workers(real_clock_db: GovernanceDB, template: str) -> None:
    with freeze_time("2026-02-02"):
        activate(real_clock_db, template)
    with freeze_time("2027-07-06 00:01"):
        assert real_clock_db.active_policy() is None
        assert real_clock_db.active_policy() is None  # lapsing once notifies once
    for audience in ("employer", "representative", "workers"):
        assert kinds(real_clock_db, audience)[-1:] == ["policy.lapsed"]
        assert kinds(real_clock_db, audience).count("policy.lapsed") == 1
    assert "2027-07-05" in real_clock_db.notifications("representative")[-1].text


def test_a_suspension_notifies_everyone(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    db.suspend(PID, sign(db, Party.REPRESENTATIVE, "policy.suspend", PID), "rep:rob")
    for audience in ("employer", "representative", "workers"):
        assert kinds(db, audience)[-1] == "policy.suspended"
    assert "suspended by the representative" in db.notifications("employer")[-1].text


def test_the_notice_version_is_recorded_once_per_version(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    first = db.record_notice_version(PID, 1, "a" * 64, "2026-02-02 09:00 UTC", "hr:emma")
    again = db.record_notice_version(PID, 1, "b" * 64, "2026-02-03 09:00 UTC", "hr:emma")
    assert again == first
    assert (first.notice_sha256, first.notice_generated_at, first.audience) == (
        "a" * 64,
        "2026-02-02 09:00 UTC",
        "workers",
    )
    assert [e.action for e in db.audit_entries()].count("notice.version") == 1


def test_an_unknown_audience_is_refused(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    with pytest.raises(PolicyError, match="not an audience"):
        db.notify("managers", "x", PID, 1, "text")
    assert db.notify("employer", "reminder", PID, 1, "Review due in 30 days.").kind == "reminder"
