"""What every test run shares: the ``--audit-large`` option, Hypothesis' profile and the
organisations built once per session (see tests/README.md)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from hypothesis import HealthCheck, settings

from .support.orgs import OrgCache, ingested, org_fixture

# Deadlines catch an input that makes a reader crawl (a regular expression that backtracks, a
# quadratic loop); five seconds per example still does, and holds on a busy two-core machine where
# a garbage collection or a neighbour's job can stall one example for a second.
settings.register_profile(
    "teamlens", deadline=dt.timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("TEAMLENS_HYPOTHESIS_PROFILE", "teamlens"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--audit-large",
        action="store_true",
        default=False,
        help="the long runs (`make audit`): the privacy attack suite's large statistical version, which "
        "writes docs/privacy-audit.md, and the kill-ingest test's many rounds",
    )


@pytest.fixture(scope="session")
def large(pytestconfig: pytest.Config) -> bool:
    """True under ``--audit-large``: use the large trial counts."""
    return bool(pytestconfig.getoption("audit_large"))


@pytest.fixture(scope="session")
def org_cache(tmp_path_factory: pytest.TempPathFactory) -> OrgCache:
    """The organisations built in this session (one build per recipe), to copy for each test."""
    return OrgCache(tmp_path_factory.mktemp("built-orgs"))


#: The standard organisation: a copy of its own for each test that takes it.
fresh_org = org_fixture(ingested)
