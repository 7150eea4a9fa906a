"""One catalogue release on DuckDB and on Spark: the same aggregates, the same released numbers.

``TEAMLENS_ENGINE=spark`` changes only what computes each block's clipped totals; the spec, the
bounds, OpenDP's noise, suppression and the ledger are the same code. So in exact mode the two
engines must give identical aggregates and cells, and with the noise drawn from one fixed seed,
identical noisy cells. Four copies of the standard organisation (300 people, 10 weeks) are used:
a release changes the ledger, and exact-mode measurements are refused outside exact mode.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from teamlens import services
from teamlens.domain import ReleasedTable
from teamlens.services import Workspace
from teamlens.store import MetricClip

from ..support.exact import exact_mode, noise_module
from ..support.orgs import OrgCache, ingested

REPORT, WINDOW = "department-monthly", "2026-01"


class Recorded:
    """An aggregator that keeps every table it returned."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.tables: list[pa.Table] = []
        self.calls: list[dict[str, Any]] = []
        self.jobs = 0

    def aggregate_block(
        self,
        *,
        levels: Sequence[str],
        weeks: Sequence[dt.date],
        clips: Mapping[str, MetricClip],
        headcount: bool,
        exclude: Collection[str] = (),
    ) -> pa.Table:
        call = {"levels": levels, "weeks": weeks, "clips": clips, "headcount": headcount, "exclude": exclude}
        table = self.inner.aggregate_block(**call)
        self.calls.append(call)
        self.tables.append(table)
        return table

    def aggregate_blocks(self, *, levels: Sequence[str], blocks: Sequence[Any]) -> list[pa.Table]:
        tables: list[pa.Table] = self.inner.aggregate_blocks(levels=levels, blocks=blocks)
        self.jobs += 1
        for block, table in zip(blocks, tables, strict=True):
            self.calls.append(
                {
                    "levels": levels,
                    "weeks": block.weeks,
                    "clips": block.clips,
                    "headcount": block.headcount,
                    "exclude": block.exclude,
                }
            )
            self.tables.append(table)
        return tables


@contextmanager
def _engines(org_cache: OrgCache, folder: Path) -> Iterator[dict[str, Workspace]]:
    """A copy of the standard organisation on each engine, with their aggregators recorded."""
    with ExitStack() as stack:
        spaces = {}
        for engine in ("duckdb", "spark"):
            org = stack.enter_context(org_cache.copy(ingested, folder / engine))
            ws = Workspace(org.ws.settings.model_copy(update={"engine": engine}))
            if engine == "spark":
                ws.__dict__["aggregator"] = Recorded(ws.aggregator)
            spaces[engine] = ws
        yield spaces


def _seeded(seed: int) -> Callable[[Sequence[int], float], list[int]]:
    """Integer noise of scale ``sigma`` from one fixed seed, in place of OpenDP's (tests only)."""
    draw = random.Random(seed)
    return lambda totals, sigma: [total + round(draw.gauss(0.0, sigma)) for total in totals]


def _values(table: ReleasedTable) -> list[tuple[Any, ...]]:
    return [(c.group, c.window, c.metric, c.value, c.lower, c.upper, c.total) for c in table.cells]


def test_exact_release_is_the_same_on_both_engines(spark: Any, org_cache: OrgCache, tmp_path: Path) -> None:
    from teamlens.spark import SparkAggregator

    with _engines(org_cache, tmp_path) as spaces, exact_mode():
        assert isinstance(spaces["spark"].aggregator.inner, SparkAggregator)
        released = {name: services.release(ws, REPORT, [WINDOW], actor="t") for name, ws in spaces.items()}
        recorded = spaces["spark"].aggregator
        on_spark = recorded.tables
        # The DuckDB release measured the same blocks; its store answers the same calls the same way.
        duck = [spaces["duckdb"].store.aggregate_block(**call) for call in recorded.calls]
    assert len(duck) == len(on_spark) > 0
    assert recorded.jobs == 1  # every block the release measured, in one Spark job
    for ours, theirs in zip(on_spark, duck, strict=True):
        assert ours.num_rows > 0
        assert ours.equals(theirs)
    assert _values(released["spark"]) == _values(released["duckdb"])
    assert any(cell.value is not None for cell in released["spark"].cells)


def test_seeded_noisy_release_is_the_same_on_both_engines(
    spark: Any, org_cache: OrgCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _engines(org_cache, tmp_path) as spaces, org_cache.copy(ingested, tmp_path / "seed8") as other:
        released = {}
        for name, ws in spaces.items():
            monkeypatch.setattr(noise_module, "add_discrete_gaussian", _seeded(7))
            released[name] = services.release(ws, REPORT, [WINDOW], actor="t")
        monkeypatch.setattr(noise_module, "add_discrete_gaussian", _seeded(8))
        other_seed = services.release(other.ws, REPORT, [WINDOW], actor="t")
    assert released["spark"].rho_charged == released["duckdb"].rho_charged > 0
    assert _values(released["spark"]) == _values(released["duckdb"])
    # Teeth: the noise is in these numbers (another seed gives others), so the equality is not vacuous.
    assert _values(other_seed) != _values(released["duckdb"])
