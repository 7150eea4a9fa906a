"""The release path's outputs pinned for a small organisation: speed work must not move a number.

A seeded organisation of a few hundred people (teams in departments in divisions, locations,
people who move team, lose their location or have facts but no directory row, an objector) is
released end to end the way ``services.release`` does it: ``measure_blocks`` (``aggregate_block``,
``structure`` and ``measure_block`` per clipping block), then ``derive``. Two runs are compared
with the outputs recorded in ``pinned/`` when the release engine landed:

- **exact mode**: the measurement rows and every released cell, byte for byte;
- **noisy**: the same, with OpenDP's sampler replaced by a seeded stand-in (OpenDP's own draws
  cannot be seeded), so the least squares, intervals, clamping and suppression all run on
  noisy inputs and must give the same floats.

Set ``TEAMLENS_REPIN=1`` to record the files again, only after a deliberate change of output.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import os
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from teamlens.domain import (
    Cadence,
    GroupLevel,
    LawfulBasis,
    MetricBound,
    Policy,
    Purpose,
    ReportDef,
    Rho,
)
from teamlens.privacy import ReleaseSpec, Strategy
from teamlens.services.release import derive, measure_blocks
from teamlens.store import FactStore

from ...support.exact import exact_mode
from .factstore_helpers import Fact, Placement, directory_table, facts_table

noise_module = importlib.import_module("teamlens.privacy.noise")

PINNED = Path(__file__).parent / "pinned"
FIRST = dt.date(2026, 1, 5)  # a Monday
DAYS = 84
METRICS = {"emails_sent": 400, "meeting_minutes": 2_000, "chat_messages": 900}
OBJECTOR = "p0007"


def _policy() -> Policy:
    end = FIRST + dt.timedelta(days=DAYS)
    return Policy(
        policy_id="pinned",
        version=1,
        title="Pinned release",
        purpose=Purpose.TEAM_WORKLOAD,
        lawful_basis=LawfulBasis.COLLECTIVE_AGREEMENT,
        controller="Pin Ltd",
        period_start=FIRST,
        period_end=end,
        review_date=end,
        retention_days=730,
        sources=("m365",),
        metrics=tuple(MetricBound(name, bound) for name, bound in METRICS.items()),
        grouping_levels=tuple(GroupLevel),
        min_group_size=8,
        rho=Rho(Fraction(1, 2)),
        delta=1e-6,
        reports=(
            ReportDef(
                "teams", "Teams per month", GroupLevel.TEAM, Cadence.MONTH, tuple(METRICS), Fraction(2, 3)
            ),
            ReportDef(
                "departments",
                "Departments per week",
                GroupLevel.DEPARTMENT,
                Cadence.WEEK,
                ("emails_sent",),
                Fraction(1, 3),
            ),
        ),
    )


def _organisation() -> tuple[list[Placement], list[Fact]]:
    rng = np.random.default_rng(20260105)
    people = [f"p{n:04d}" for n in range(260)]
    placements: list[Placement] = []
    since = FIRST - dt.timedelta(days=400)
    move_day = FIRST + dt.timedelta(days=30)  # a Wednesday: the move counts from the next Monday
    for n, person in enumerate(people[:240]):
        team = n // 9  # 27 teams of 9 (the last of 6), 3 teams a department, 2 departments a division
        department, division = team // 3, team // 6
        location = None if n % 23 == 0 else ["Leeds", "Lyon", "Graz"][n % 3]
        row = Placement(person, since, None, f"t{team:02d}", f"d{department}", f"v{division}", location)
        if n % 17 == 5:  # moves team (and department) during the second month
            new_team = (team + 4) % 27
            placements.append(row._replace(valid_to=move_day))
            row = Placement(
                person, move_day, None, f"t{new_team:02d}", f"d{new_team // 3}", f"v{new_team // 6}", location
            )
        if n % 31 == 3:  # no team and no department: placed at division only
            row = row._replace(team=None, department=None)
        placements.append(row)
    facts = []
    for person in people:  # the last 20 have facts but no directory row
        rates = {name: rng.lognormal(np.log(bound / 8), 0.9) for name, bound in METRICS.items()}
        for offset in range(DAYS):
            day = FIRST + dt.timedelta(days=offset)
            if day.weekday() >= 5 or rng.random() < 0.1:
                continue
            for name, rate in rates.items():
                value = int(rng.poisson(rate * rng.gamma(2.0, 0.5)))
                if value:
                    facts.append(Fact(person, day, 1, name, value, "m365"))
    return placements, facts


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> FactStore:
    placements, facts = _organisation()
    built = FactStore(tmp_path_factory.mktemp("pinned") / "facts")
    built.commit(
        content_hash="pinned-1",
        source="m365",
        label="pinned",
        facts=facts_table(facts),
        directory=directory_table(placements),
    )
    return built


def _release(store: FactStore) -> tuple[list[pa.Table], dict[str, list[list[object]]]]:
    """Measure every block of both reports and derive them, as ``services.release`` does."""
    policy = _policy()
    strategy = Strategy.for_policy(policy)
    specs = [
        ReleaseSpec.build(policy, report.report_id, [window.key for window in policy.windows(report.cadence)])
        for report in policy.reports
    ]
    blocks = sorted(
        {block for spec in specs for block in strategy.blocks_for(spec.windows)}, key=lambda b: b.start
    )
    with store.block_reader() as reader:
        done = measure_blocks(strategy, blocks, reader, excluded=lambda day: [OBJECTOR])
    measured = [block.rows for block in done]
    structures = {block.block_key: block.structure for block in done}
    rows = pa.concat_tables(measured)
    cells: dict[str, list[list[object]]] = {}
    for spec in specs:
        table = derive(strategy, spec, rows, structures, release_id="pin", rho_charged=Rho(Fraction(0)))
        cells[spec.report_id] = [
            [
                cell.group,
                cell.window,
                cell.metric,
                cell.value,
                cell.lower,
                cell.upper,
                cell.total,
                cell.person_weeks,
                cell.sd_total,
                cell.sd_person_weeks,
                cell.clamped,
                cell.uncertain,
            ]
            for cell in table.cells
        ]
    return measured, cells


def _as_json(measured: Sequence[pa.Table], cells: dict[str, list[list[object]]]) -> str:
    rows = [
        [
            row["level"],
            row["group"],
            row["week"].isoformat(),
            row["metric"],
            row["noisy"],
            row["sigma"],
            row["scale"],
        ]
        for table in measured
        for row in table.to_pylist()
    ]
    lines = [json.dumps(row) for row in rows]
    lines += [json.dumps([report, *cell]) for report, found in sorted(cells.items()) for cell in found]
    return "\n".join(lines) + "\n"


def _seeded_sampler(seed: int) -> Callable[[Sequence[int], float], list[int]]:
    """A stand-in for OpenDP's sampler whose draw depends only on the seed and the vector itself.

    Independent of call order, so that vectors may be noised in any order or in parallel.
    """

    def sample(totals: Sequence[int], sigma: float) -> list[int]:
        vector = np.asarray(totals, dtype=np.int64)
        digest = hashlib.sha256(vector.tobytes() + repr(sigma).encode()).digest()
        rng = np.random.default_rng([seed, int.from_bytes(digest[:8], "big")])
        noise = np.rint(rng.normal(0.0, sigma, len(vector))).astype(np.int64)
        return [int(value) for value in vector + noise]

    return sample


def _compare(name: str, found: str, *, repin: bool = bool(os.environ.get("TEAMLENS_REPIN"))) -> None:
    path = PINNED / name
    if repin:
        path.parent.mkdir(exist_ok=True)
        path.write_text(found)
    expected = path.read_text()
    if found != expected:
        old, new = expected.splitlines(), found.splitlines()
        diffs = [
            f"line {n + 1}: {a} != {b}" for n, (a, b) in enumerate(zip(old, new, strict=False)) if a != b
        ]
        raise AssertionError(
            f"{name} moved ({len(old)} lines pinned, {len(new)} found, {len(diffs)} differ): {diffs[:3]}"
        )


def test_exact_mode_release_is_pinned(store: FactStore) -> None:
    with exact_mode():
        measured, cells = _release(store)
    assert sum(table.num_rows for table in measured) > 1000
    assert any(cell[3] is None for report in cells.values() for cell in report)  # suppression happens
    _compare("exact.json", _as_json(measured, cells))


def test_noisy_release_is_pinned_under_a_seeded_sampler(
    store: FactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(noise_module, "add_discrete_gaussian", _seeded_sampler(7))
    measured, cells = _release(store)
    flags = [cell[10] for report in cells.values() for cell in report]
    assert any(flags)  # some values are clamped: the one-sided intervals are exercised too
    _compare("noisy.json", _as_json(measured, cells))


def test_the_pin_has_teeth(store: FactStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another noise draw moves the output, so the comparison above can fail."""
    monkeypatch.setattr(noise_module, "add_discrete_gaussian", _seeded_sampler(8))
    measured, cells = _release(store)
    with pytest.raises(AssertionError, match="moved"):
        _compare("noisy.json", _as_json(measured, cells), repin=False)
