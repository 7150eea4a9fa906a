"""Small helpers shared by the governance tests."""

from __future__ import annotations

import datetime as dt

from teamlens.governance import ActivePolicy, GovernanceDB


class SteppingClock:
    """A clock that starts at a fixed instant and moves one millisecond each time it is read."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=1)
        return self.now


def edit(text: str, old: str, new: str) -> str:
    """Replace ``old`` (which must occur exactly once) so that a test cannot edit nothing."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def activate(db: GovernanceDB, text: str) -> ActivePolicy:
    """Propose ``text`` and have both parties approve it."""
    info = db.propose(text, "policy.toml", "analyst:ann")
    db.approve(info.policy_id, info.version, "employer", "Emma Employer", "hr:emma")
    db.approve(info.policy_id, info.version, "representative", "Rob Rep", "rep:rob")
    return db.require_active_policy("test")
