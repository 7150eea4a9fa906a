"""The shared attack harness (requirements §2.2): bounds derived from the mechanism, org-chart helpers.

Statistical attacks run the release engine many times on true totals from an installation's
store (``replicas.py``). Every bound here is derived from the mechanism:

- A person's total zCDP loss over the catalogue is at most ρ·Σshares: each clipping block's
  vectors cost their exact share, headcounts their span's share, and zCDP adds up.
- Within one measured block a person moves each (level, metric) vector by a vector of L2 norm at
  most its sensitivity, so two neighbours' measurements are μ = √(Σ Δ²/σ²) noise units apart
  (μ² ≤ 2ρ for the ρ of the vectors they are in). Against Gaussian neighbours μ apart a balanced
  low/high guess is right with probability at most Φ(μ/2), and a membership classifier has an
  AUC of at most Φ(μ/√2), whatever post-processing (consistency, means, intervals) comes after.
- Pure ε-DP bounds the same guess by e^ε/(1+e^ε) (requirements §2.2): stated too, although at
  the template's ε ≈ 10 it is close to 1 and the Gaussian bound is the one with teeth.

Tolerances are 5 standard errors of the estimate, so an honest run fails with probability about
3·10⁻⁷ per check.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

PHI = NormalDist().cdf
#: Standard errors a statistical estimate may stray before a check fails (p ≈ 3e-7 one-sided).
Z = 5.0


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
