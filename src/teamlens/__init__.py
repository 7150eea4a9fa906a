"""teamlens: team-level collaboration insight that no one can turn into per-worker surveillance.

The flow: a processing policy (``governance``) is written, consulted on and approved by both the
employer and workers' representatives; only then do ``sources`` read metadata exports, turning
every identifier into a keyed pseudonym (``pseudonymise``) and keeping only the policy's metrics;
the ``store`` keeps person × period facts in Parquet; the ``privacy`` engine releases
team-level means with OpenDP noise, charging an exact budget ledger. ``services`` combine these
for the ``cli``, the ``web`` app and analysts' notebooks (``teamlens.open``). Shared types are
in ``domain``; errors in ``errors``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from teamlens.services.analysis import ReleasedReports
    from teamlens.settings import Settings

__version__ = "0.1.0"


def open(target: str | os.PathLike[str] | Settings) -> ReleasedReports:
    """The released reports of the installation in folder ``target`` (or with these settings).

    ``teamlens.open("demo-output/data").reports()`` is every released cell as a pandas DataFrame:
    team-level means with their 95% intervals, suppressed cells marked, never a person-level row.
    """
    from teamlens.services.analysis import open_reports

    return open_reports(target)
