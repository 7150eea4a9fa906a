"""What the consultation record takes (R5): comments and objections only, within the length limits,
signed or anonymous; a refused view leaves the record as it was."""

from __future__ import annotations

import pytest

from teamlens.errors import PolicyError
from teamlens.governance import GovernanceDB
from teamlens.governance.consultation import MAX_TEXT

from .helpers import register_keys, sign

PID = "collaboration-2026h1"


@pytest.fixture
def consulting(db: GovernanceDB, template: str) -> GovernanceDB:
    """Version 1 of the template, put to consultation by the employer."""
    register_keys(db)
    db.propose(template, "policy.toml", "analyst:ann")
    db.consult(PID, 1, sign(db, "employer", "policy.consult", PID, 1), "hr:emma", planner_json="{}")
    return db


@pytest.mark.parametrize(
    ("kind", "author", "text", "refusal"),
    [
        ("response", "Works council", "We answer ourselves.", "'response' is not a view"),
        ("published", "Works council", "A second publication.", "'published' is not a view"),
        ("gripe", "Works council", "Not a kind.", "'gripe' is not a kind of view"),
        ("comment", "x" * 201, "Fine.", "The author label is 201 characters long"),
        ("objection", "Works council", " \n ", "The text is empty"),
        ("comment", "Works council", "y" * (MAX_TEXT + 1), f"The text is {MAX_TEXT + 1:,} characters long"),
    ],
)
def test_a_view_outside_what_the_record_takes_is_refused_and_nothing_is_recorded(
    consulting: GovernanceDB, kind: str, author: str, text: str, refusal: str
) -> None:
    before = consulting.consultation(PID, 1)
    with pytest.raises(PolicyError, match=refusal):
        consulting.add_view(PID, 1, kind, author, text)
    assert consulting.consultation(PID, 1) == before


def test_views_at_the_limits_are_recorded_and_an_unsigned_one_is_anonymous(consulting: GovernanceDB) -> None:
    consulting.add_view(PID, 1, "comment", "x" * 200, "y" * MAX_TEXT)
    consulting.add_view(PID, 1, "objection", "   ", "No weekly team figures.")
    signed, unsigned = consulting.consultation(PID, 1).views
    assert (signed.author, len(signed.text)) == ("x" * 200, MAX_TEXT)
    assert (unsigned.kind.value, unsigned.author) == ("objection", "anonymous")


def test_not_consulting_needs_a_name(db: GovernanceDB, template: str) -> None:
    register_keys(db)
    db.propose(template, "policy.toml", "analyst:ann")
    reason = "A trial on synthetic data."
    signed = sign(db, "employer", "consultation.not_consulted", PID, 1, text=reason)
    for name in ("", "n" * 201):
        with pytest.raises(PolicyError, match="Name who records the decision"):
            db.record_not_consulted(PID, 1, signed, name, reason)
    assert db.consultation(PID, 1).not_consulted is None
