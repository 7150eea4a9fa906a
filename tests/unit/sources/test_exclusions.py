"""The one R18 rule every correspondent-seeing connector shares."""

from __future__ import annotations

from teamlens.domain import Exclusions
from teamlens.sources.exclusions import AddressExclusions


def test_listed_addresses_domains_and_subdomains_are_excluded_whatever_the_case() -> None:
    excluded = AddressExclusions(
        Exclusions(addresses=(" Reps@Example.org ",), domains=("@Union.example.org",))
    )
    assert excluded("reps@example.org")
    assert excluded("REPS@EXAMPLE.ORG")
    assert excluded("anyone@union.example.org")
    assert excluded("Branch@North.Union.Example.org")
    assert not excluded("someone@example.org")
    assert not excluded("someone@notunion.example.org")  # a suffix that is not a whole label
    assert bool(excluded)


def test_no_exclusions_excludes_nothing() -> None:
    excluded = AddressExclusions(Exclusions())
    assert not excluded
    assert not excluded("reps@example.org")
