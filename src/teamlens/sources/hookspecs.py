"""The plugin hooks a connector package implements to add sources to teamlens.

A third-party package defines functions marked with :data:`hookimpl`, puts them in a module,
and names that module under the ``teamlens`` entry-point group::

    [project.entry-points.teamlens]
    my_connector = "my_package.teamlens_plugin"

teamlens's own connectors register through the very same hooks (``builtin.py``).
"""

from __future__ import annotations

import pluggy

from teamlens.sources.reader import DirectoryReader, SourceReader

PROJECT = "teamlens"

hookspec = pluggy.HookspecMarker(PROJECT)
#: Mark a plugin's implementation of a hook with this decorator.
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def teamlens_register_sources() -> list[SourceReader]:  # type: ignore[empty-body]
    """Return the fact sources this plugin provides."""


@hookspec
def teamlens_register_directories() -> list[DirectoryReader]:  # type: ignore[empty-body]
    """Return the directory sources this plugin provides."""
