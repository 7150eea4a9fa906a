"""Helpers for the synth tests: generate an organisation and read its files back with pandas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from teamlens.synth import SynthConfig, SynthResult, generate


@dataclass(frozen=True)
class Generated:
    """A generated organisation and its files read back with pandas."""

    config: SynthConfig
    result: SynthResult
    directory: pd.DataFrame
    email: dict[date, pd.DataFrame]  # by the Monday of the week
    teams: dict[date, pd.DataFrame]

    def employed(self, monday: date) -> set[str]:
        """E-mail addresses whose directory row covers ``monday``."""
        d = self.directory
        iso = monday.isoformat()
        covered = (d["Valid From"] <= iso) & ((d["Valid To"] == "") | (d["Valid To"] > iso))
        return set(d.loc[covered, "Email"])


def read_report(path: Path) -> pd.DataFrame:
    """Read a Microsoft-style report: BOM, empty cells as empty strings for text columns."""
    return pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)


def load(config: SynthConfig, out: Path) -> Generated:
    """Generate ``config`` under ``out`` and read everything back."""
    result = generate(config, out)
    mondays = [config.start + timedelta(weeks=w) for w in range(config.weeks)]
    return Generated(
        config=config,
        result=result,
        directory=pd.read_csv(result.directory_csv, dtype=str, keep_default_na=False),
        email={m: read_report(p) for m, p in zip(mondays, result.email_reports, strict=True)},
        teams={m: read_report(p) for m, p in zip(mondays, result.teams_reports, strict=True)},
    )
