"""The shared attack harness (requirements §2.2): neighbours, truths from the store, games, bounds.

Statistical attacks need thousands of independent releases; a real release is cached, so they run
the engine the service runs (``plan_release`` → ``add_noise`` → ``assemble``) on the true totals
the installation's own store computes (see ``auditor.py`` for why this is faithful). Every
statistical bound here is derived from the mechanism:

- Gaussian noise whose two neighbours are μ = √(Σ Δ²/σ²) noise units apart allows a balanced
  low/high guess to be right with probability at most Φ(μ/2), and a membership classifier an AUC
  of at most Φ(μ/√2); μ² ≤ 2ρ for the ρ the attacker's cells cost.
- Pure ε-DP bounds the same guess by e^ε/(1+e^ε) (requirements §2.2): stated too, although at
  the template's ε ≈ 10 it is close to 1 and the Gaussian bound is the one with teeth.

Tolerances are 5 standard errors of the estimate, so an honest run fails with probability about
3·10⁻⁷ per check.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from teamlens.domain import HEADCOUNT, Policy, ReleasedTable, Window
from teamlens.privacy import ReleasePlan, ReleaseSpec, assemble, plan_release
from teamlens.services import Workspace

from .auditor import Truth, noisy_table

PHI = NormalDist().cdf
#: Standard errors a statistical estimate may stray before a check fails (p ≈ 3e-7 one-sided).
Z = 5.0


def plan_for(
    policy: Policy, report_id: str, windows: Sequence[str], metrics: Sequence[str] | None = None
) -> ReleasePlan:
    """The plan of a fresh release (nothing cached) of ``report_id`` for ``windows``."""
    return plan_release(policy, ReleaseSpec.build(policy, report_id, windows, metrics))


def store_truth(
    ws: Workspace, plan: ReleasePlan, group: str, exclude: Collection[str] = ()
) -> dict[tuple[str, str], int]:
    """The true clipped totals of ``group`` for the plan's cells, as the store gives the engine."""
    table = ws.store.aggregate(
        level=plan.spec.level.value,
        windows=sorted({cell.window for cell in plan.cells}),
        bounds=plan.bounds,
        headcount=True,
        exclude=exclude,
    )
    rows = [row for row in table.to_pylist() if row["group"] == group]
    truth = {(cell.window.key, cell.metric): 0 for cell in plan.cells}
    for row in rows:
        truth[(row["window"], row["metric"])] = int(row["total"])
    return truth


def extreme_shift(plan: ReleasePlan, *, headcount: int) -> dict[tuple[str, str], int]:
    """What a worker at every clipping bound adds to each cell (``headcount`` to the count)."""
    return {
        (cell.window.key, cell.metric): (headcount if cell.metric == HEADCOUNT else cell.bound)
        for cell in plan.cells
    }


def plus(truth: Truth, shift: Truth) -> dict[tuple[str, str], int]:
    """Cell-wise sum of two truths."""
    return {key: truth[key] + shift.get(key, 0) for key in truth}


def released_cells(
    policy: Policy, plan: ReleasePlan, runs: Mapping[tuple[str, str], np.ndarray]
) -> ReleasedTable:
    """``assemble`` the replica runs into one released table (one group per run, ``run0000000``…)."""
    return assemble(
        policy,
        plan.spec,
        noisy_table(plan, runs),
        release_id="attack",
        released_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
        rho_charged=plan.cost,
    )


def attacker_totals(table: ReleasedTable, metric: str, count: int, window: Window) -> np.ndarray:
    """Turn each run's released weekly mean back into a group total, knowing the true headcount.

    What an analyst with the org chart does: mean × members × weeks (× 60 for hours). A
    suppressed run gives NaN.
    """
    from teamlens.domain import metric as metric_def

    scale = count * window.n_weeks * metric_def(metric).display_divisor
    cells = sorted((cell for cell in table.cells if cell.metric == metric), key=lambda cell: cell.group)
    return np.array([np.nan if cell.value is None else cell.value * scale for cell in cells])


def accuracy_bound(mu: float) -> float:
    """The best balanced low/high guessing accuracy against Gaussian neighbours μ apart."""
    return PHI(mu / 2)


def auc_bound(mu: float) -> float:
    """The best membership AUC against Gaussian neighbours μ apart."""
    return PHI(mu / math.sqrt(2))


def dp_accuracy_bound(epsilon: float) -> float:
    """e^ε/(1+e^ε): the bound pure ε-DP puts on a balanced guess (requirements §2.2)."""
    return 1 / (1 + math.exp(-epsilon))


def proportion_tolerance(trials: int) -> float:
    """Z standard errors of a proportion near 1/2 measured over ``trials`` independent trials."""
    return Z * 0.5 / math.sqrt(trials)


def auc(positives: np.ndarray, negatives: np.ndarray) -> float:
    """Mann–Whitney estimate of P(score of a positive > score of a negative), ties counted half."""
    scores = np.concatenate([positives, negatives])
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    rank_sum = ranks[: len(positives)].sum()
    return float((rank_sum - len(positives) * (len(positives) + 1) / 2) / (len(positives) * len(negatives)))


def directory(csv_path: Path | str) -> pd.DataFrame:
    """The synthetic HR directory as strings (what an analyst with the org chart knows)."""
    return pd.read_csv(csv_path, dtype=str, keep_default_na=False)


def members_at(frame: pd.DataFrame, day: dt.date, column: str) -> dict[str, list[str]]:
    """E-mail addresses per group of ``column`` on ``day`` (the directory row valid then)."""
    iso = day.isoformat()
    valid = frame[(frame["Valid From"] <= iso) & ((frame["Valid To"] == "") | (frame["Valid To"] > iso))]
    return {str(group): sorted(rows["Email"].str.lower()) for group, rows in valid.groupby(column)}


def employed_during(frame: pd.DataFrame, window: Window) -> list[str]:
    """Everyone with a directory row overlapping ``window`` (they have activity in it)."""
    start, end = window.start.isoformat(), window.end.isoformat()
    rows = frame[(frame["Valid From"] < end) & ((frame["Valid To"] == "") | (frame["Valid To"] > start))]
    return sorted(set(rows["Email"].str.lower()))


def edit_export(path: object, email: str, column: str, value: str) -> None:
    """Set one person's ``column`` in a Microsoft 365 usage report, keeping its BOM and CRLF lines."""
    import csv
    from pathlib import Path

    file = Path(str(path))
    with file.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    who, where = header.index("User Principal Name"), header.index(column)
    hits = 0
    for row in rows[1:]:
        if row[who].lower() == email.lower():
            row[where] = value
            hits += 1
    assert hits == 1, f"{email} is not in {file.name} exactly once"
    with file.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)


def with_reports(text: str, version: int, extra: str, shares: dict[str, str]) -> str:
    """The policy ``text`` as version ``version`` with ``extra`` [[reports]] appended and shares changed.

    The appended tables must follow the other [[reports]], so the sections after the catalogue
    ([exclusions], [working_hours]) are moved behind them.
    """
    import re

    text = re.sub(r"(?m)^version = \d+", f"version = {version}", text, count=1)
    for old, new in shares.items():
        assert f'budget_share = "{old}"' in text
        text = text.replace(f'budget_share = "{old}"', f'budget_share = "{new}"', 1)
    head, tail = re.split(r"(?m)^# Messages to or from these", text, maxsplit=1)
    return head.rstrip() + "\n\n" + extra.strip() + "\n\n# Messages to or from these" + tail
