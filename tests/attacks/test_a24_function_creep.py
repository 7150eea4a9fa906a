"""A24 — function creep: aggregate reports turned into individual proxies, caught by a catalogue linter.

The linter (``catalogue_linter.py``) runs over the template policy (which the demo approves) and
every policy file shipped in the repository. Teeth: a crafted policy with a team ranking, an
attendance-like measure per team and k = 2 fails it on each count.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from teamlens.governance import parse_policy, policy_template

from .catalogue_linter import lint_policy_text

ROOT = Path(__file__).resolve().parents[2]


def _shipped_policies() -> list[Path]:
    found = []
    for folder in ("docs", "examples", "src"):
        for path in sorted((ROOT / folder).rglob("*.toml")) if (ROOT / folder).exists() else []:
            if "[policy]" in path.read_text(encoding="utf-8", errors="replace"):
                found.append(path)
    return found


@pytest.mark.attack("A24")
def test_a24_the_template_and_shipped_policies_pass_the_catalogue_linter(measure) -> None:
    texts = {"template": policy_template()} | {
        str(p.relative_to(ROOT)): p.read_text("utf-8") for p in _shipped_policies()
    }
    problems = {name: lint_policy_text(text) for name, text in texts.items()}
    measure(a24_policies_linted=sorted(texts), a24_problems={k: v for k, v in problems.items() if v})
    assert all(not found for found in problems.values()), problems
    # The parser agrees: the template is a valid, approvable policy with k ≥ 5.
    assert parse_policy(policy_template(), "template").policy.min_group_size >= 5


CRAFTED = """
[policy]
grouping_levels = ["organisation", "department", "team"]
min_group_size = 2

[[reports]]
id = "team-league-table"
title = "Team leaderboard: rank teams by meeting hours"
level = "team"
cadence = "week"
metrics = ["meeting_minutes"]

[[reports]]
id = "team-presence"
title = "Who is in"
level = "team"
cadence = "week"
metrics = ["active_days", "present"]

[[reports]]
id = "no-level"
metrics = ["emails_sent"]
"""


@pytest.mark.attack("A24", teeth=True)
def test_a24_teeth_a_ranking_and_attendance_catalogue_fails_the_linter() -> None:
    problems = lint_policy_text(CRAFTED)
    text = "\n".join(problems)
    assert "min_group_size" in text
    assert "ranking or comparison view" in text
    assert "attendance-like measure 'active_days'" in text and "'present'" in text
    assert "declares no group level" in text and "declares no cadence" in text
