"""The Hypothesis profiles: `make test` runs a share of each fuzz test's examples, `make audit` all."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import settings

from . import fuzzing
from .paths import ROOT


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


def test_make_audit_runs_every_file_that_asks_for_a_share_of_its_examples() -> None:
    """A test file whose counts `make test` cuts must get its full counts somewhere: in `make audit`."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = makefile.split("\naudit:", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
    audited = [ROOT / word for word in target.split() if word.startswith("tests/")]
    uses = re.compile(r"^from \.+support\.fuzzing import", re.MULTILINE)
    users = [path for path in (ROOT / "tests").rglob("test_*.py") if uses.search(path.read_text())]
    assert len(users) > 10  # the readers' fuzz tests, the ledger property, A27, ...
    missed = [
        str(path.relative_to(ROOT)) for path in users if not any(path.is_relative_to(a) for a in audited)
    ]
    assert missed == [], "add these to the audit target in the Makefile"
