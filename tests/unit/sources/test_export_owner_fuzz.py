"""Any file name names one owner (its address, lower-cased) or none, and never crashes or hangs the rule."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from teamlens.sources.export_owner import CALENDAR_EXTENSIONS, MAIL_EXTENSIONS, address, owner_from_name

from ...support.fuzzing import examples

_NAME_CHARS = st.characters(codec="utf-8", exclude_characters="/\x00")


@settings(max_examples=examples(300))
@given(st.text(_NAME_CHARS, max_size=255))
def test_any_text_is_one_address_or_none(text: str) -> None:
    found = address(text)
    if found is not None:
        assert found == text.strip().lower()
        assert found.count("@") == 1


@settings(max_examples=examples(300))
@given(
    st.text(_NAME_CHARS, min_size=1, max_size=200).filter(lambda name: name not in (".", "..")),
    st.sampled_from(["", *MAIL_EXTENSIONS, *CALENDAR_EXTENSIONS, ".txt"]),
)
def test_any_file_name_gives_its_address_or_none(stem: str, extension: str) -> None:
    path = Path("/exports") / (stem + extension)
    for extensions in (MAIL_EXTENSIONS, CALENDAR_EXTENSIONS):
        owner = owner_from_name(path, extensions)
        if owner is not None:
            assert owner == address(owner)
            assert owner in path.name.lower()


def test_teeth_a_name_that_is_an_address_is_found() -> None:
    assert owner_from_name(Path("/exports/Alice@Example.org.mbox"), MAIL_EXTENSIONS) == "alice@example.org"
    assert owner_from_name(Path("/exports/alice-mail.mbox"), MAIL_EXTENSIONS) is None
