"""``GovernanceDB``'s methods for the data-protection duties: retention of a period's releases (R15),
a rectification's recomputation (R21), the union's copy (R25) and key rotation (R35). Each write is
one audited transaction, like every other ``GovernanceDB`` write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from teamlens.governance import key_periods, period_disposal, rectification, union_copy
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

    def pseudonym_key(self) -> str | None:
        """The id of the pseudonymisation key in force (None before the first rotation) (R35)."""
        with self._read() as conn:
            return key_periods.current(conn)

    def pseudonym_key_started(self) -> dt.datetime | None:
        """When the pseudonymisation key in force started (None before the first rotation)."""
        with self._read() as conn:
            return key_periods.started(conn)

    def rekey(
        self,
        *,
        old_id: str,
        new_id: str,
        pseudonyms: Mapping[str, str],
        voters: Callable[[str, int], Mapping[str, str]],
        owners: Mapping[str, str],
        actor: str,
        details: Mapping[str, object],
    ) -> key_periods.Rekeyed:
        """Move every stored pseudonym to the new key in one audited transaction (``key_periods``)."""
        with self._write() as conn:
            return key_periods.rekey(
                conn,
                old_id=old_id,
                new_id=new_id,
                pseudonyms=pseudonyms,
                voters=voters,
                owners=owners,
                actor=actor,
                now=self._now(),
                details=details,
            )
