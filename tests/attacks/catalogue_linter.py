"""A function-creep linter for a policy's report catalogue (attack A24, requirements R10, R12, R19).

It reads the policy TOML itself (``tomllib``), not the parsed ``Policy``, so that a crafted policy
the parser would refuse can still be linted and its problems named. Rules:

1. every report declares ``level`` and ``cadence``, and its level is one of ``grouping_levels``;
2. no report can show a group below the minimum size: ``min_group_size`` is at least 5;
3. no ranking or comparison view (a "top", "rank", "league", "leaderboard", "compare", "best",
   "worst" report) below the comparison level (department), nor with a minimum size under 10;
4. no attendance-like measure (presence, attendance, active days, logins, online time, badge
   swipes) at team level or below;
5. after-hours measures are not released per team (R19: never broken down below the comparison floor).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from typing import Any

#: Levels at or above the comparison floor, coarsest first; team (and anything finer) is below it.
COMPARISON_LEVELS = ("organisation", "division", "department", "location")
COMPARISON_FLOOR = 10
MIN_GROUP_SIZE_FLOOR = 5

RANKING = re.compile(
    r"\b(top|rank(ing|ed|s)?|league|leaderboard|compar(e|ison)|best|worst|versus|vs)\b", re.I
)
ATTENDANCE = re.compile(
    r"(present|presence|attendance|active_days|days_active|login|logon|logged_in|online|badge|swipe|"
    r"desk_time|hours_online|idle)",
    re.I,
)
AFTER_HOURS = re.compile(r"after_hours", re.I)


def lint_policy_text(text: str) -> list[str]:
    """The catalogue's function-creep problems; an empty list when the catalogue is clean."""
    document = tomllib.loads(text)
    return lint_policy(document)


def lint_policy(document: Mapping[str, Any]) -> list[str]:
    """Lint an already-loaded policy document (the TOML as a dict)."""
    problems: list[str] = []
    header = document.get("policy", {})
    levels = set(header.get("grouping_levels", []))
    k = header.get("min_group_size")
    if not isinstance(k, int) or k < MIN_GROUP_SIZE_FLOOR:
        problems.append(
            f"min_group_size {k!r} lets a report show a group of fewer than {MIN_GROUP_SIZE_FLOOR}"
        )
    reports = document.get("reports", [])
    if not reports:
        problems.append("the catalogue has no reports")
    for report in reports:
        name = report.get("id", "<no id>")
        level, cadence = report.get("level"), report.get("cadence")
        if not level:
            problems.append(f"report {name}: declares no group level")
        elif level not in levels:
            problems.append(f"report {name}: level {level!r} is not one of the policy's grouping_levels")
        if not cadence:
            problems.append(f"report {name}: declares no cadence")
        below_floor = level not in COMPARISON_LEVELS
        words = " ".join(str(report.get(field, "")) for field in ("id", "title", "view", "kind"))
        if RANKING.search(words.replace("-", " ").replace("_", " ")) and (
            below_floor or not isinstance(k, int) or k < COMPARISON_FLOOR
        ):
            problems.append(f"report {name}: a ranking or comparison view at level {level!r}")
        for metric in report.get("metrics", []):
            if ATTENDANCE.search(metric) and below_floor:
                problems.append(f"report {name}: attendance-like measure {metric!r} at level {level!r}")
            if AFTER_HOURS.search(metric) and below_floor:
                problems.append(f"report {name}: after-hours measure {metric!r} below the comparison floor")
    return problems
