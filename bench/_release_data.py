"""The synthetic organisation of the release benchmark: directory, daily facts, policy, cached store.

``people`` people in teams of 5–30 (teams → departments → divisions, one static directory row
each, valid from a year before the data) have daily facts on every weekday of ``days`` calendar
days starting on Monday 2024-01-01, for five metrics with heavy-tailed values (a log-normal
rate per person, gamma-Poisson days), zeros left out as the readers leave them out. The facts
go straight from numpy into Arrow record batches and are committed through ``FactStore.commit``
as one stream, so the store is laid out exactly as an ingest would lay it out.

Building the full-size store takes minutes, so it is cached under ``bench/.out`` keyed by its
size and by ``VERSION``; a build is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow as pa

from teamlens.domain import (
    DIRECTORY_SCHEMA,
    FACT_SCHEMA,
    Cadence,
    GroupLevel,
    LawfulBasis,
    MetricBound,
    Policy,
    Purpose,
    ReportDef,
    Rho,
    Window,
)
from teamlens.store import FactStore

#: Change when the generator or the store's file layout changes, so that stale cached stores are not reused
#: (2: the directory carries working hours).
VERSION = 2
OUT = Path(__file__).resolve().parent / ".out"
FIRST_DAY = dt.date(2024, 1, 1)  # a Monday: ISO week 2024-W01
REPORT_ID = "team_monthly"
SOURCE = "synthetic"
SEED = 20_240_101
RHO = Fraction(1, 2)

#: metric → (median daily value across people, log-normal spread of people's rates, per-week bound).
#: The spreads put the busiest few percent of people above the bound, so clipping does real work.
METRIC_SHAPES: dict[str, tuple[float, float, int]] = {
    "emails_sent": (15.0, 0.9, 500),
    "emails_received": (60.0, 0.7, 1_500),
    "chat_messages": (30.0, 1.0, 1_000),
    "meetings_attended": (3.0, 0.6, 40),
    "meeting_minutes": (100.0, 0.7, 2_400),
}
METRICS = tuple(METRIC_SHAPES)


@dataclass(frozen=True)
class Size:
    """How big the synthetic organisation is: people × calendar days."""

    people: int
    days: int

    @property
    def last_day(self) -> dt.date:
        """The last calendar day with data."""
        return FIRST_DAY + dt.timedelta(days=self.days - 1)

    @property
    def weekdays(self) -> list[dt.date]:
        """Every Monday-to-Friday day of the span, in order."""
        span = (FIRST_DAY + dt.timedelta(days=n) for n in range(self.days))
        return [day for day in span if day.weekday() < 5]

    @property
    def key(self) -> str:
        """The cache key of a store of this size."""
        return f"release-store-{self.people}x{self.days}-v{VERSION}"


def pseudonyms(count: int) -> list[str]:
    """``count`` stable 64-hex-digit pseudonyms, the shape the HMAC pseudonymiser produces."""
    return [hashlib.sha256(f"bench-person-{n}".encode()).hexdigest() for n in range(count)]


def _teams(people: int, rng: np.random.Generator) -> np.ndarray:
    """The team number of every person: consecutive runs of 5 to 30 people."""
    sizes: list[int] = []
    while sum(sizes) < people:
        sizes.append(int(rng.integers(5, 31)))
    sizes[-1] -= sum(sizes) - people
    if sizes[-1] < 5 and len(sizes) > 1:
        last = sizes.pop()  # popped first: `sizes[-2] += sizes.pop()` would add it to the wrong team
        sizes[-1] += last
    return np.repeat(np.arange(len(sizes)), sizes)


def directory(size: Size) -> pa.Table:
    """The static HR directory (``DIRECTORY_SCHEMA``): team → department → division, no managers."""
    rng = np.random.default_rng(SEED)
    team = _teams(size.people, rng)
    n_teams = int(team.max()) + 1
    department_of_team = np.sort(rng.integers(0, max(1, n_teams // 7), n_teams))
    division_of_department = department_of_team // 5
    locations = np.array(["London", "Leeds", "Dublin", "Lisbon", "Berlin"])
    return pa.table(
        {
            "person": pa.array(pseudonyms(size.people), pa.string()),
            "valid_from": pa.array([FIRST_DAY - dt.timedelta(days=365)] * size.people, pa.date32()),
            "valid_to": pa.nulls(size.people, pa.date32()),
            "team": pa.array([f"team-{t:05d}" for t in team], pa.string()),
            "department": pa.array([f"dept-{department_of_team[t]:04d}" for t in team], pa.string()),
            "division": pa.array([f"div-{division_of_department[t]:03d}" for t in team], pa.string()),
            "location": pa.array(locations[rng.integers(0, len(locations), size.people)], pa.string()),
            "manager": pa.nulls(size.people, pa.string()),
            # Everyone keeps the organisation's working hours (the release does not use them).
            "time_zone": pa.nulls(size.people, pa.string()),
            "work_start": pa.nulls(size.people, pa.string()),
            "work_end": pa.nulls(size.people, pa.string()),
        },
        schema=DIRECTORY_SCHEMA,
    )


def fact_batches(size: Size) -> Iterator[pa.RecordBatch]:
    """Every daily fact (``FACT_SCHEMA``), one record batch per weekday, zeros left out."""
    rng = np.random.default_rng(SEED + 1)
    people = pa.array(pseudonyms(size.people), pa.string())
    names = pa.array(METRICS, pa.string())
    rates = {
        name: median * np.exp(spread * rng.standard_normal(size.people))
        for name, (median, spread, _) in METRIC_SHAPES.items()
    }
    for day in size.weekdays:
        # Gamma-Poisson days (overdispersed): quiet days and very busy days around each rate.
        values = np.stack([rng.poisson(rates[name] * rng.gamma(2.0, 0.5, size.people)) for name in METRICS])
        metric_index, person_index = np.nonzero(values)
        count = len(person_index)
        yield pa.RecordBatch.from_arrays(
            [
                people.take(pa.array(person_index)),
                pa.array(np.full(count, (day - dt.date(1970, 1, 1)).days, np.int32), pa.int32()).cast(
                    pa.date32()
                ),
                pa.array(np.ones(count, np.int8), pa.int8()),
                names.take(pa.array(metric_index)),
                pa.array(values[metric_index, person_index].astype(np.int64), pa.int64()),
                pa.nulls(count, pa.string()).fill_null(SOURCE),
            ],
            schema=FACT_SCHEMA,
        )


def cached_store(size: Size) -> tuple[Path, float]:
    """The root of a built store of ``size`` (building it if needed) and the seconds the build took."""
    root = OUT / size.key
    if (root / "facts" / "manifest.json").exists():
        return root / "facts", 0.0
    building = OUT / f"{size.key}.building"
    shutil.rmtree(building, ignore_errors=True)
    began = dt.datetime.now()
    store = FactStore(building / "facts")
    store.commit(
        content_hash=f"bench-{size.key}",
        source=SOURCE,
        label=size.key,
        facts=fact_batches(size),
        directory=directory(size),
    )
    seconds = (dt.datetime.now() - began).total_seconds()
    building.rename(root)
    return root / "facts", seconds


def build_policy(size: Size) -> Policy:
    """The approved policy of the benchmark: one team-level monthly report of the five metrics.

    The period runs from the first day to the Monday after the last, so it is whole ISO weeks
    and every ISO-week month that fits in the data span is one of the report's windows.
    """
    period_end = size.last_day + dt.timedelta(days=7 - size.last_day.weekday())
    return Policy(
        policy_id="bench-release",
        version=1,
        title="Release benchmark",
        purpose=Purpose.TEAM_WORKLOAD,
        lawful_basis=LawfulBasis.COLLECTIVE_AGREEMENT,
        controller="Bench Ltd",
        period_start=FIRST_DAY,
        period_end=period_end,
        review_date=period_end,
        retention_days=730,
        sources=(SOURCE,),
        metrics=tuple(MetricBound(name, bound) for name, (_, _, bound) in METRIC_SHAPES.items()),
        grouping_levels=tuple(GroupLevel),
        min_group_size=10,
        rho=Rho(RHO),
        delta=1e-6,
        reports=(
            ReportDef(
                REPORT_ID, "Team workload per month", GroupLevel.TEAM, Cadence.MONTH, METRICS, Fraction(1)
            ),
        ),
    )


def report_windows(policy: Policy) -> tuple[Window, ...]:
    """Every window of the benchmark report inside the policy period."""
    return policy.windows(policy.report(REPORT_ID).cadence)
