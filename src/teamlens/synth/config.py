"""What to generate (``SynthConfig``), what was written (``SynthResult``), and the seeded streams."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from pathlib import Path

import numpy as np

_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")

#: Below this the hierarchy (teams of at least three, one manager each) cannot be built.
MIN_PEOPLE = 10


@dataclass(frozen=True)
class SynthConfig:
    """Size, period and seed of a synthetic organisation; the same config gives the same bytes."""

    people: int = 2000
    weeks: int = 26
    start: date = date(2025, 12, 29)
    seed: int = 7
    domain: str = "example.org"
    concealed: bool = False
    daily: bool = False

    def __post_init__(self) -> None:
        if self.people < MIN_PEOPLE:
            raise ValueError(f"people must be at least {MIN_PEOPLE} (got {self.people})")
        if self.weeks < 1:
            raise ValueError(f"weeks must be at least 1 (got {self.weeks})")
        if self.start.weekday() != 0:
            raise ValueError(
                f"start must be a Monday (got {self.start.isoformat()}, a {self.start.strftime('%A')})"
            )
        if self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer (got {self.seed})")
        if not _DOMAIN.fullmatch(self.domain):
            raise ValueError(f"domain must be a lower-case DNS name like 'example.org' (got '{self.domain}')")
        if self.daily:
            # Daily (D1) reports would need a consistent split of every counter over the days;
            # until then refuse rather than silently writing weekly files.
            raise ValueError("daily reports are not generated yet (got daily=True); use daily=False")


@dataclass(frozen=True)
class SynthResult:
    """Where the generated files are, and the size of the organisation they describe.

    ``people`` counts every person in the directory: the starting headcount plus joiners.
    """

    directory_csv: Path
    email_reports: tuple[Path, ...]
    teams_reports: tuple[Path, ...]
    people: int
    teams: int
    departments: int
    divisions: int


class Stream(IntEnum):
    """Independent random streams, so adding weeks or columns does not reshuffle the organisation."""

    ORGANISATION = 1
    IDENTITY = 2
    TIMELINE = 3
    ACTIVITY = 4
    TRAITS = 5


#: People are drawn in blocks of this many from their own streams, so that person i's traits
#: and name do not depend on how many joiners a longer run makes room for.
CHUNK = 1024


def chunks(count: int) -> range:
    """The block numbers that cover ``count`` people."""
    return range(-(-count // CHUNK))


def rng(seed: int, stream: Stream, *keys: int) -> np.random.Generator:
    """A PCG64 generator for one (seed, stream, keys) combination."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, int(stream), *keys])))
