"""Measuring many clipping blocks from one snapshot of the store, one DuckDB and one directory read.

A release measures every missing block of a period, and each block needs its totals
(``aggregate_block``), its organisation chart (``structure``) and every level's groups
(``groups``). Opened one by one, each of these would open DuckDB and read the directory again;
a ``BlockReader`` (``FactStore.block_reader()``) does both once, and keeps the files of one
manifest for as long as it is open, so every block of a release reads the same data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from teamlens.domain import GroupLevel
from teamlens.store import _aggregate
from teamlens.store._aggregate import MetricClip


class BlockReader:
    """Clipped totals, charts and group lists of one store snapshot (see the module docstring)."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, *, month_files: Mapping[str, Path], directory: Path | None
    ) -> None:
        self._con = con
        self._month_files = dict(month_files)
        self._directory = _aggregate.directory_table(directory)
        self._groups: dict[GroupLevel, list[str]] = {}

    def aggregate_block(
        self,
        *,
        levels: Sequence[str],
        weeks: Sequence[dt.date],
        clips: Mapping[str, MetricClip],
        headcount: bool,
        exclude: Collection[str] = (),
    ) -> pa.Table:
        """One block's clipped fixed-point totals (``FactStore.aggregate_block``)."""
        return _aggregate.aggregate_block(
            self._con,
            month_files=self._month_files,
            directory=self._directory,
            levels=[_aggregate.level_column(level) for level in levels],
            weeks=weeks,
            clips=clips,
            headcount=headcount,
            exclude=exclude,
        )

    def structure(self, *, levels: Sequence[str], first_day: dt.date, end_day: dt.date) -> pa.Table:
        """The organisation chart for [first_day, end_day) (``FactStore.structure``)."""
        return _aggregate.structure(
            self._con,
            directory=self._directory,
            levels=[_aggregate.level_column(level) for level in levels],
            first_day=first_day,
            end_day=end_day,
        )

    def groups(self, level: str) -> list[str]:
        """Every key of ``level`` in the directory's history, hidden keys included (``FactStore.groups``)."""
        group_level = _aggregate.level_column(level)
        if group_level is GroupLevel.ORGANISATION:
            return [_aggregate.ORGANISATION_GROUP]
        if group_level not in self._groups:
            self._groups[group_level] = _aggregate.groups(
                self._con, directory=self._directory, level=group_level
            )
        return list(self._groups[group_level])
