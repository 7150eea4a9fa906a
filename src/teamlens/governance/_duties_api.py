"""``GovernanceDB``'s methods for the data-protection duties: retention of a period's releases (R15),
a rectification's recomputation (R21) and the union's copy (R25). Each write is one audited
transaction, like every other ``GovernanceDB`` write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from teamlens.governance import period_disposal, rectification, union_copy
from teamlens.governance._engine import _Core
from teamlens.governance.records import ActivePolicy


class _DutiesAPI(_Core):
    """Retention, rectification and the union's copy (mixed into ``GovernanceDB``)."""

    def period_archive(self, policy_id: str, period_start: dt.date) -> dict[str, Any]:
        """What archiving a policy period keeps: releases, ledger charges, published cells (R15)."""
        with self._read() as conn:
            return period_disposal.archived(conn, policy_id, period_start)

    def dispose_period(
        self, policy_id: str, period_start: dt.date, actor: str, details: Mapping[str, object]
    ) -> dict[str, int]:
        """Delete a finished period's released aggregates, measurements and ledger; audited counts."""
        with self._write() as conn:
            return period_disposal.dispose(
                conn, policy_id, period_start, actor=actor, now=self._now(), details=details
            )

    def record_rectification(self, *, release_id: str, active: ActivePolicy, **kept: Any) -> dict[str, int]:
        """Charge and keep a rectification's re-measured blocks and recomputed cells (R21)."""
        with self._write() as conn:
            return rectification.record(conn, release_id=release_id, active=active, now=self._now(), **kept)

    def published_between(self, since: dt.date, through: dt.date) -> list[union_copy.PublishedCell]:
        """Every cell published for a window overlapping [since, through): the union's copy (R25)."""
        with self._read() as conn:
            return union_copy.published_between(conn, since, through)
