"""What every test run shares: the organisations built once per session (see tests/README.md)."""

from __future__ import annotations

import pytest

from .support.orgs import OrgCache, ingested, org_fixture


@pytest.fixture(scope="session")
def org_cache(tmp_path_factory: pytest.TempPathFactory) -> OrgCache:
    """The organisations built in this session (one build per recipe), to copy for each test."""
    return OrgCache(tmp_path_factory.mktemp("built-orgs"))


#: The standard organisation: a copy of its own for each test that takes it.
fresh_org = org_fixture(ingested)
