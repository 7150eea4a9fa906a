"""Check the budget books against the audit log before every release (attack A32).

The audit log is hash-chained (and signed at checkpoints), so its ``release.record`` and
``bounds.record`` entries are the record. ``check_books`` recomputes from them what a policy
period has charged and which clipping blocks it measured, and compares every policy's releases
(ids, charges, published cell counts) too: deleting or editing the ledger, the releases, the kept
measurements or the published cells cannot buy fresh noise or fresh budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import sqlalchemy as sa

from teamlens.governance import audit_log, measurement_cache, period_disposal
from teamlens.governance.ledger import stored_rho
from teamlens.governance.tables import ledger, releases, report_cells


def check_books(conn: sa.Connection, policy_id: str, period_start: dt.date, using: Iterable[str] = ()) -> str:
    """Compare the ledger and the kept measurements with the audit log; return the first disagreement.

    The audit log is hash-chained (and signed at checkpoints), so it is the record: the period's
    charges and measured blocks are recomputed from its ``release.record`` entries, and the
    ledger's sum, the set of measured blocks, their charges and — for the blocks in ``using`` —
    the digest of their kept noisy values must all agree. An empty string means they do.
    """
    verification = audit_log.verify(conn)
    if not verification.ok:
        return f"the audit log does not verify: {verification.problem}"
    # A finished period's releases disposed of under the policy's retention (R15) are gone on record.
    disposed = period_disposal.disposed_releases(audit_log.details_of(conn, period_disposal.DISPOSED))
    records = [
        (action, details)
        for action in ("release.record", "bounds.record")
        for details in audit_log.details_of(conn, action)
        if str(details.get("release_id", "")) not in disposed
    ]
    problem = _check_releases(conn, records)
    if problem:
        return problem
    charged = Fraction(0)
    blocks: dict[str, tuple[str, str]] = {}
    for _, details in records:
        if details.get("policy_id") != policy_id or details.get("period_start", period_start.isoformat()) != (
            period_start.isoformat()
        ):
            continue
        charged += Fraction(str(details.get("rho", "0")))
        for block in details.get("blocks", []) or []:
            blocks[str(block["block"])] = (str(block["rho"]), str(block["rows_sha256"]))
    ledger_sum = sum(
        (
            stored_rho(row)
            for row in conn.execute(
                sa.select(ledger.c.rho_numerator, ledger.c.rho_denominator).where(
                    ledger.c.policy_id == policy_id, ledger.c.period_start == period_start
                )
            )
        ),
        Fraction(0),
    )
    if ledger_sum != charged:
        return (
            f"the ledger holds ρ = {float(ledger_sum):.6g} for this period but the audit log records "
            f"ρ = {float(charged):.6g} of releases"
        )
    kept = measurement_cache.measured(conn, policy_id, period_start)
    if set(kept) != set(blocks):
        lost = sorted(set(blocks) - set(kept)) or sorted(set(kept) - set(blocks))
        return f"the measured blocks kept differ from those the audit log records (first: '{lost[0]}')"
    for key, (rho, digest) in blocks.items():
        if Fraction(rho) != kept[key].rho.value or digest != kept[key].rows_sha256:
            return f"block '{key}' was altered after it was measured"
    for key in sorted(set(using) & set(kept)):
        if measurement_cache.block_digest(conn, policy_id, period_start, key) != kept[key].rows_sha256:
            return f"the noisy values of block '{key}' were altered after they were measured"
    return ""


def _check_releases(conn: sa.Connection, records: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """Every policy's releases against the audit log: the same ids, charges and published cell counts.

    Across all policies, because a later policy over the same weeks counts what earlier ones
    charged there (``spent``): deleting an earlier policy's releases must not free budget either.
    """
    recorded: dict[str, Fraction] = {}
    published: dict[str, int] = {}
    for action, details in records:
        release_id = str(details.get("release_id", ""))
        recorded[release_id] = Fraction(str(details.get("rho", "0")))
        if action == "release.record" and "blocks" in details and "cells" in details:
            published[release_id] = int(details["cells"])  # the release engine's, kept in report_cells
        for earlier, cells in (details.get("replaced") or {}).items():  # a rectification's (R21)
            published[str(earlier)] = published.get(str(earlier), 0) - int(cells)
    held = {
        row.release_id: stored_rho(row)
        for row in conn.execute(
            sa.select(releases.c.release_id, releases.c.rho_numerator, releases.c.rho_denominator)
        )
    }
    missing, unrecorded = sorted(set(recorded) - set(held)), sorted(set(held) - set(recorded))
    if missing:
        return f"release '{missing[0]}' is in the audit log but not in the releases table"
    if unrecorded:
        return f"release '{unrecorded[0]}' is in the releases table but not in the audit log"
    for release_id, rho in recorded.items():
        if held[release_id] != rho:
            return f"release '{release_id}' charges another ρ than the audit log records"
    counted = sa.select(report_cells.c.release_id, sa.func.count()).group_by(report_cells.c.release_id)
    kept: dict[str, int] = {str(row[0]): int(row[1]) for row in conn.execute(counted)}
    for release_id, cells in published.items():
        if kept.get(release_id, 0) != cells:
            return f"release '{release_id}' published {cells} cells but {kept.get(release_id, 0)} are kept"
    return ""
