"""A column of identifiers becomes the same pseudonyms as one-by-one hashing, each name hashed once."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teamlens.pseudonymise import Pseudonymiser
from teamlens.sources import pseudonym_column
from teamlens.sources.pseudonym_column import PseudonymColumn

from ...support.fuzzing import examples

KEY = bytes(range(32))


class CountingPseudonymiser:
    """The real keyed pseudonymiser, counting how often it is asked."""

    def __init__(self) -> None:
        self.inner = Pseudonymiser(KEY)
        self.calls = 0

    def __call__(self, name: str) -> str:
        self.calls += 1
        return self.inner(name)


def test_each_value_gets_its_own_pseudonym_and_each_name_is_hashed_once_per_file() -> None:
    counting = CountingPseudonymiser()
    column = PseudonymColumn(counting)
    reference = Pseudonymiser(KEY)
    blocks = [["a@x", "b@x", "a@x"], ["b@x", "c@x"], ["c@x", "a@x", "A@X"]]
    for block in blocks:
        assert column(pa.array(block, pa.string())).to_pylist() == [reference(name) for name in block]
    assert counting.calls == 4  # a, b, c and the upper-case spelling, once each
    assert column.seen == {reference("a@x"), reference("b@x"), reference("c@x")}


def test_past_the_lookup_limit_names_are_still_pseudonymised_correctly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pseudonym_column, "_MAX_KNOWN", 2)
    column = PseudonymColumn(Pseudonymiser(KEY))
    reference = Pseudonymiser(KEY)
    for block in (["a", "b"], ["c", "a"], ["d", "e", "b"]):
        assert column(pa.array(block, pa.string())).to_pylist() == [reference(name) for name in block]
    assert len(column.seen) == 5


@settings(max_examples=examples(50), deadline=None)
@given(st.lists(st.lists(st.text(max_size=6), max_size=20), max_size=6))
def test_any_blocks_match_hashing_one_by_one(blocks: list[list[str]]) -> None:
    column = PseudonymColumn(Pseudonymiser(KEY))
    reference = Pseudonymiser(KEY)
    for block in blocks:
        assert column(pa.array(block, pa.string())).to_pylist() == [reference(name) for name in block]
