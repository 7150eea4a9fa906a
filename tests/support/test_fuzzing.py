"""The Hypothesis profiles: `make test` runs a share of each fuzz test's examples, `make audit` all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from . import fuzzing


@pytest.fixture
def restore() -> Iterator[None]:
    """Put back this run's profile after a test that switches it."""
    active = fuzzing.active()
    yield
    fuzzing.load(active)


@pytest.mark.usefixtures("restore")
def test_make_test_runs_a_fifth_of_each_count_and_never_fewer_than_25() -> None:
    fuzzing.load("teamlens")
    assert [fuzzing.examples(full) for full in (500, 300, 150, 100, 50, 10)] == [100, 60, 30, 25, 25, 10]


@pytest.mark.usefixtures("restore")
def test_make_audit_runs_every_full_count() -> None:
    fuzzing.load("audit")
    assert [fuzzing.examples(full) for full in (500, 300, 50, 1)] == [500, 300, 50, 1]
    assert settings().deadline is not None  # still catches an input that makes a reader crawl


@pytest.mark.usefixtures("restore")
def test_an_unknown_profile_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"unknown Hypothesis profile 'fast'.*teamlens, audit"):
        fuzzing.load("fast")
