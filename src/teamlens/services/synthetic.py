"""Build a synthetic organisation's exports (for demos, tests and benchmarks)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from teamlens.synth import SynthConfig, SynthResult, generate


def synthesise(
    out_dir: Path,
    *,
    people: int = 2000,
    weeks: int = 26,
    start: dt.date = dt.date(2025, 12, 29),
    seed: int = 7,
    concealed: bool = False,
) -> SynthResult:
    """Write an HR directory and weekly Microsoft 365 usage reports for a made-up organisation."""
    config = SynthConfig(people=people, weeks=weeks, start=start, seed=seed, concealed=concealed)
    return generate(config, out_dir)
