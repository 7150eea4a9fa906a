"""Finding connectors: built-ins and third-party plugins come through the same pluggy hooks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest

from teamlens.errors import ConfigError, InputFormatError
from teamlens.sources import (
    DirectoryReader,
    ReadContext,
    ReadReport,
    SourceReader,
    detect_directory,
    detect_source,
    directory_names,
    get_directory,
    get_source,
    hookimpl,
    plugin_manager,
    source_names,
)
from teamlens.sources import builtin as builtin_plugin

from .sources_testkit import write_rows


@dataclass(frozen=True)
class FakeSource:
    """A third-party connector that recognises files ending in .fake."""

    name: str = "fake_source"
    description: str = "files ending in .fake"

    def sniff(self, path: Path) -> bool:
        return path.suffix == ".fake"

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        yield from ()


class FakePlugin:
    @hookimpl
    def teamlens_register_sources(self) -> list[SourceReader]:
        return [FakeSource()]


class ClashingPlugin:
    @hookimpl
    def teamlens_register_sources(self) -> list[SourceReader]:
        return [FakeSource(name="m365_email_activity")]


@pytest.fixture
def registered() -> Iterator[list[object]]:
    plugins: list[object] = []
    yield plugins
    for plugin in plugins:
        plugin_manager().unregister(plugin)


def test_builtins_are_registered_through_the_hook() -> None:
    assert plugin_manager().is_registered(builtin_plugin)
    assert source_names()[:2] == ["m365_email_activity", "m365_teams_activity"]
    assert "hr_directory_csv" in directory_names()
    assert isinstance(get_source("m365_teams_activity"), SourceReader)
    assert isinstance(get_directory("hr_directory_csv"), DirectoryReader)


def test_a_third_party_plugin_appears_and_is_detected(tmp_path: Path, registered: list[object]) -> None:
    plugin = FakePlugin()
    before = source_names()
    assert "fake_source" not in before
    plugin_manager().register(plugin)
    registered.append(plugin)
    assert source_names() == [*before, "fake_source"]
    assert get_source("fake_source").name == "fake_source"
    path = tmp_path / "x.fake"
    path.write_text("anything")
    assert detect_source(path).name == "fake_source"


def test_two_connectors_with_one_name_are_refused(registered: list[object]) -> None:
    plugin = ClashingPlugin()
    plugin_manager().register(plugin)
    registered.append(plugin)
    with pytest.raises(ConfigError, match="m365_email_activity"):
        source_names()


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        get_source("slack")
    assert "m365_email_activity" in caught.value.hint


def test_detection_by_header(tmp_path: Path, email_header: list[str]) -> None:
    email = write_rows(tmp_path / "e.csv", email_header, [])
    hr = write_rows(tmp_path / "hr.csv", ["Email", "Team", "Valid From"], [])
    assert detect_source(email).name == "m365_email_activity"
    assert detect_directory(hr).name == "hr_directory_csv"
    with pytest.raises(InputFormatError, match="hr_directory_csv"):
        detect_directory(email)


def test_an_unknown_file_lists_what_is_supported(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "x.csv", ["a", "b"], [{"a": "secret@x.org"}])
    with pytest.raises(InputFormatError) as caught:
        detect_source(path)
    assert "m365_teams_activity" in str(caught.value)
    assert "secret@x.org" not in str(caught.value)
    with pytest.raises(InputFormatError, match="does not exist"):
        detect_source(tmp_path / "nope.csv")
