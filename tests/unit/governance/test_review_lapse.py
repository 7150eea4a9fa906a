"""Passing the review date without renewal stops processing by itself (R6), tested by time travel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from freezegun import freeze_time

from teamlens.errors import NoApprovedPolicy, PolicyError, PolicyLapsed
from teamlens.governance import GovernanceDB, Party, PolicyState

from .helpers import activate, edit, sign

PID = "collaboration-2026h1"  # the template's review_date is 2027-07-05


@pytest.fixture
def real_clock_db(database_url: str) -> Iterator[GovernanceDB]:
    """A database on the real clock, so that freezegun moves it."""
    with GovernanceDB(database_url) as governance:
        yield governance


def test_the_policy_runs_through_its_review_date(real_clock_db: GovernanceDB, template: str) -> None:
    with freeze_time("2026-02-02"):
        activate(real_clock_db, template)
    with freeze_time("2027-07-05 23:59"):
        assert real_clock_db.require_active_policy("release").version == 1


def test_the_day_after_the_review_date_everything_stops(real_clock_db: GovernanceDB, template: str) -> None:
    with freeze_time("2026-02-02"):
        activate(real_clock_db, template)
    with freeze_time("2027-07-06 00:01"):
        assert real_clock_db.active_policy() is None
        for action in ("ingest data", "release statistics"):
            with pytest.raises(PolicyLapsed) as caught:
                real_clock_db.require_active_policy(action)
            assert isinstance(caught.value, NoApprovedPolicy)  # every path that refuses "off" refuses this
            assert f"Refusing to {action}: policy '{PID}' version 1 lapsed" in caught.value.message
            assert "review date (2027-07-05)" in caught.value.message
            assert "later review_date" in caught.value.hint
    [info] = real_clock_db.policy_versions()
    assert info.state is PolicyState.LAPSED
    lapses = [e for e in real_clock_db.audit_entries(limit=100) if e.action == "policy.lapse"]
    assert len(lapses) == 1  # recorded once, however often it is asked
    assert lapses[0].details == {"policy_id": PID, "version": 1, "review_date": "2027-07-05"}
    assert real_clock_db.verify_audit().ok


def test_a_lapsed_policy_comes_back_only_as_a_renewed_version(
    real_clock_db: GovernanceDB, template: str
) -> None:
    with freeze_time("2026-02-02"):
        activate(real_clock_db, template)
    with freeze_time("2027-07-06"):
        assert real_clock_db.active_policy() is None
        for party in Party:
            signed = sign(real_clock_db, party, "policy.activate", PID, 1)
            with pytest.raises(PolicyError, match="is lapsed; only a version both parties approved"):
                real_clock_db.activate(PID, 1, signed, "someone")
        # Same review date: it would lapse at once, so it cannot even be signed.
        stale = edit(template, "version = 1 ", "version = 2 ")
        real_clock_db.propose(stale, "policy.toml", "hr:emma")
        with pytest.raises(PolicyError, match="review date \\(2027-07-05\\) that has already passed"):
            real_clock_db.approve(
                PID, 2, sign(real_clock_db, Party.EMPLOYER, "policy.approve", PID, 2), "Emma", "hr:emma"
            )
        renewed = edit(template, "version = 1 ", "version = 3 ")
        renewed = edit(renewed, "review_date = 2027-07-05", "review_date = 2028-07-03")
        activate(real_clock_db, renewed)
        assert real_clock_db.require_active_policy("release").version == 3


def test_suspension_after_a_lapse_is_no_longer_possible(real_clock_db: GovernanceDB, template: str) -> None:
    with freeze_time("2026-02-02"):
        activate(real_clock_db, template)
    with freeze_time("2027-08-01"):
        real_clock_db.active_policy()
        with pytest.raises(PolicyError, match="has no active version to suspend"):
            sign(real_clock_db, Party.REPRESENTATIVE, "policy.suspend", PID)
        assert (
            real_clock_db.retire(
                PID, 1, sign(real_clock_db, Party.REPRESENTATIVE, "policy.retire", PID, 1), "rep:rob"
            ).state
            is PolicyState.RETIRED
        )
