"""Fixtures for the sources tests: the vendors' real header lines."""

from __future__ import annotations

import pytest

from .sources_testkit import real_header


@pytest.fixture
def email_header() -> list[str]:
    """The real getEmailActivityUserDetail header (skips when the formats folder is absent)."""
    return real_header("m365_email_activity_user_detail_header.csv")


@pytest.fixture
def teams_header() -> list[str]:
    """The real getTeamsUserActivityUserDetail header (skips when the formats folder is absent)."""
    return real_header("m365_teams_user_activity_user_detail_header.csv")
