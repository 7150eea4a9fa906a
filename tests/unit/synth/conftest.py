"""Shared generated organisations: generating once per session keeps the suite fast."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from teamlens.synth import SynthConfig

from .synth_support import Generated, load


@pytest.fixture(scope="session")
def make_org(tmp_path_factory: pytest.TempPathFactory) -> Callable[[SynthConfig], Generated]:
    """Generate a config once per session (keyed by the config)."""
    cache: dict[SynthConfig, Generated] = {}

    def make(config: SynthConfig) -> Generated:
        if config not in cache:
            cache[config] = load(config, tmp_path_factory.mktemp("synth"))
        return cache[config]

    return make


@pytest.fixture(scope="session")
def org2000(make_org: Callable[[SynthConfig], Generated]) -> Generated:
    """The default organisation: 2,000 people over 26 weeks from 2025-12-29 (includes Easter)."""
    return make_org(SynthConfig())


@pytest.fixture(scope="session")
def concealed(make_org: Callable[[SynthConfig], Generated]) -> Generated:
    """A small organisation written with concealed names."""
    return make_org(SynthConfig(people=300, weeks=8, concealed=True))
