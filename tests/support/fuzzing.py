"""Hypothesis' profiles: how many examples a property test runs, and how long one may take.

``make test`` runs the ``teamlens`` profile: each test that names its example count with
``examples(full)`` runs a fifth of it (never fewer than 25), so the many fuzz tests of the readers stay
a small share of the suite. ``make audit`` runs the ``audit`` profile, which gives every such test its
full count. Both keep Hypothesis' example database, so an input that once broke a reader is tried
again first on every later run, whatever the count. ``TEAMLENS_HYPOTHESIS_PROFILE`` picks a profile by
name (see tests/README.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hypothesis import HealthCheck, settings


@dataclass(frozen=True)
class Profile:
    """A share of each test's full example count, and the fewest examples a test runs."""

    share: float
    least: int


#: The profiles by name: ``teamlens`` for ``make test``, ``audit`` for ``make audit``.
PROFILES = {"teamlens": Profile(share=0.2, least=25), "audit": Profile(share=1.0, least=1)}
_active = "teamlens"

# Deadlines catch an input that makes a reader crawl (a regular expression that backtracks, a
# quadratic loop); five seconds per example still does, and holds on a busy two-core machine where
# a garbage collection or a neighbour's job can stall one example for a second.
for _name in PROFILES:
    settings.register_profile(
        _name, deadline=dt.timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow]
    )


def load(name: str) -> None:
    """Make ``name`` the profile of this run (before the test modules are imported)."""
    global _active
    if name not in PROFILES:
        raise ValueError(f"unknown Hypothesis profile {name!r}: expected one of {', '.join(PROFILES)}")
    settings.load_profile(name)
    _active = name


def active() -> str:
    """The name of this run's profile."""
    return _active


def examples(full: int) -> int:
    """The example count for a test whose thorough run is ``full`` examples, in this run's profile."""
    profile = PROFILES[_active]
    return min(full, max(profile.least, round(full * profile.share)))
