"""Fixtures of the privacy tests; the policy and table builders live in ``support``."""

from __future__ import annotations

import pytest

from teamlens.domain import Policy

from .support import build_policy


@pytest.fixture
def policy() -> Policy:
    """The three-report test policy of ``support`` (ρ = 1, k = 10)."""
    return build_policy()
