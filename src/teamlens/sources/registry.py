"""Find connectors by name or by sniffing a file, across built-in and installed plugins."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import pluggy

from teamlens.errors import ConfigError, InputFormatError
from teamlens.sources import hookspecs
from teamlens.sources.reader import DirectoryReader, SourceReader

_Reader = TypeVar("_Reader", SourceReader, DirectoryReader)

#: teamlens's own connector modules; each registers through the same hooks a third-party plugin uses.
BUILTIN_PLUGINS = (
    "teamlens.sources.builtin",
    "teamlens.sources.builtin_messaging",
    "teamlens.sources.builtin_files",
    "teamlens.sources.builtin_cloud",
)


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    """The one plugin manager: built-in connectors plus every ``teamlens`` entry point installed."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for module_name in BUILTIN_PLUGINS:
        manager.register(importlib.import_module(module_name), name=module_name)
    try:
        manager.load_setuptools_entrypoints(hookspecs.PROJECT)
    except Exception as error:
        # A broken third-party package must not look like a teamlens bug; its own message names
        # code, not people.
        raise ConfigError(
            f"A teamlens plugin could not be loaded ({type(error).__name__}: {error}).",
            "Upgrade or uninstall the plugin package; `pip list` shows what is installed.",
        ) from error
    return manager


def sources() -> list[SourceReader]:
    """Every fact source, built-in first, each name once."""
    return _unique(plugin_manager().hook.teamlens_register_sources(), "source")


def directories() -> list[DirectoryReader]:
    """Every directory source, built-in first, each name once."""
    return _unique(plugin_manager().hook.teamlens_register_directories(), "directory")


def source_names() -> list[str]:
    """The names of every fact source, for ``--source`` options and policy files."""
    return [reader.name for reader in sources()]


def directory_names() -> list[str]:
    """The names of every directory source."""
    return [reader.name for reader in directories()]


def get_source(name: str) -> SourceReader:
    """The fact source called ``name``; ``ConfigError`` listing the known names otherwise."""
    return _named(sources(), name, "source")


def get_directory(name: str) -> DirectoryReader:
    """The directory source called ``name``; ``ConfigError`` listing the known names otherwise."""
    return _named(directories(), name, "directory")


def detect_source(path: Path) -> SourceReader:
    """The first fact source that recognises ``path``; ``InputFormatError`` listing them otherwise."""
    return _detect(sources(), path, "source")


def detect_directory(path: Path) -> DirectoryReader:
    """The first directory source that recognises ``path``; ``InputFormatError`` otherwise."""
    return _detect(directories(), path, "directory")


def _unique(results: Sequence[Sequence[_Reader]], kind: str) -> list[_Reader]:
    # pluggy calls the most recently registered plugin first; built-ins were registered first.
    readers = [reader for result in reversed(results) for reader in result]
    names = [reader.name for reader in readers]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ConfigError(
            f"Two installed {kind} connectors share the name {', '.join(twice)}.",
            "Uninstall one of the plugin packages; `pip list` shows what is installed.",
        )
    return readers


def _named(readers: list[_Reader], name: str, kind: str) -> _Reader:
    for reader in readers:
        if reader.name == name:
            return reader
    raise ConfigError(
        f"There is no {kind} connector named '{name}'.",
        f"Use one of: {', '.join(reader.name for reader in readers)}.",
    )


def unrecognised(path: Path) -> InputFormatError:
    """The error for a file no connector recognises, naming every format compared and its needs."""
    readers: list[SourceReader | DirectoryReader] = [*directories(), *sources()]
    return InputFormatError(
        path,
        "is not in a format teamlens knows",
        line=1,
        expected=f"one of the formats it was compared with: {_compared(readers, path)}",
        hint="CSV columns are matched by name, in any letter case and with or without spaces, "
        "underscores or hyphens; name the connector with --source NAME if the header was edited.",
    )


def _compared(readers: Sequence[SourceReader | DirectoryReader], path: Path) -> str:
    """Each connector, and what the file would need for it (columns, for the CSV connectors)."""
    found = []
    for reader in readers:
        lacks = getattr(reader, "lacks", None)
        try:
            need = lacks(path) if callable(lacks) and path.is_file() else None
        except OSError:
            need = None
        found.append(f"{reader.name} ({reader.description}){f': {need}' if need else ''}")
    return "; ".join(found)


def _detect(readers: list[_Reader], path: Path, kind: str) -> _Reader:
    if not path.exists():
        raise InputFormatError(path, "does not exist", hint="Check the path.")
    # Folders are offered too: an unzipped Slack export or a Maildir is one input.
    for reader in readers:
        try:
            claimed = reader.sniff(path)
        except OSError:
            claimed = False
        if claimed:
            return reader
    raise InputFormatError(
        path,
        f"is not in a {kind} format teamlens knows",
        line=1,
        expected=f"one of the formats it was compared with: {_compared(readers, path)}",
        hint=f"Name the connector explicitly if the header was edited; {kind}s are matched by header.",
    )
