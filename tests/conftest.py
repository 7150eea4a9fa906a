"""What every test run shares: the ``--audit-large`` option, Hypothesis' profile, the organisations
built once per session, and the random order's seed in the closing summary (see tests/README.md)."""

from __future__ import annotations

import os

import pytest

from .support import fuzzing
from .support.orgs import OrgCache, ingested, org_fixture


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--audit-large",
        action="store_true",
        default=False,
        help="the long runs (`make audit`): the privacy attack suite's large statistical version, which "
        "writes docs/privacy-audit.md, the kill-ingest test's many rounds, and Hypothesis' full example "
        "counts (the `audit` profile)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Before any test module is imported: their `examples(full)` counts depend on the profile.
    default = "audit" if config.getoption("audit_large") else "teamlens"
    fuzzing.load(os.environ.get("TEAMLENS_HYPOTHESIS_PROFILE", default))


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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    seed = getattr(config.option, "randomly_seed", None)
    if seed is not None and config.pluginmanager.hasplugin("randomly"):
        terminalreporter.write_line(
            f"tests ran in random order, seed {seed}: repeat this order with --randomly-seed={seed}"
        )
