"""Charge the privacy budget and keep what a release measured and published, all-or-nothing.

The ledger holds one charge per release, per policy and period (``policy_id``, ``period_start``);
zCDP composes by addition, so what a period has spent is the exact sum of its charges. A release
that measures new clipping blocks keeps their noisy values (``measurement_cache``) and pays for
them; the report cells it publishes are kept too, so asking again costs nothing and returns the
same numbers. Before every release, ``books.check_books`` compares all of it with the
hash-chained audit log: deleting a release's rows cannot buy fresh noise or fresh budget (attack A32).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import sqlalchemy as sa

from teamlens.domain import HEADCOUNT, Policy, ReleasedCell, Rho, Window
from teamlens.errors import BudgetExceeded, InternalError, PolicyError, ReleaseError
from teamlens.governance import audit_log, measurement_cache
from teamlens.governance.measurement_cache import BlockMeasurement
from teamlens.governance.records import ActivePolicy, PolicyState, ReleaseInfo
from teamlens.governance.tables import (
    as_utc,
    ledger,
    measured_blocks,
    policy_versions,
    releases,
)


def stored_rho(row: Any) -> Fraction:
    """The exact ρ of a ``releases`` or ``ledger`` row (kept as numerator and denominator text)."""
    return Fraction(int(row.rho_numerator), int(row.rho_denominator))


def spent(
    conn: sa.Connection, policy_id: str, period_start: dt.date, period_end: dt.date | None = None
) -> Rho:
    """Sum, exactly, the budget charged so far in one policy period.

    With ``period_end``, charges made under *other* policies whose released windows or measured
    blocks overlap [period_start, period_end) count too: the privacy unit is a person over those weeks, so a
    new policy id over weeks already released must not start with a fresh budget (attack A13).
    """
    rows = conn.execute(
        sa.select(ledger.c.rho_numerator, ledger.c.rho_denominator).where(
            ledger.c.policy_id == policy_id, ledger.c.period_start == period_start
        )
    )
    total = sum((stored_rho(row) for row in rows), Fraction(0))
    if period_end is not None:
        others = conn.execute(
            sa.select(
                releases.c.release_id,
                releases.c.windows,
                releases.c.rho_numerator,
                releases.c.rho_denominator,
            ).where(sa.or_(releases.c.policy_id != policy_id, releases.c.period_start != period_start))
        ).all()
        blocks: dict[str, list[str]] = {}
        for kept in conn.execute(sa.select(measured_blocks.c.release_id, measured_blocks.c.block_key)):
            blocks.setdefault(kept.release_id, []).append(kept.block_key)
        for row in others:
            keys = [*json.loads(row.windows), *blocks.get(row.release_id, [])]
            if any(_overlaps(key, period_start, period_end) for key in keys):
                total += stored_rho(row)
    return Rho(total)


def check_room(conn: sa.Connection, policy: Policy, rho: Rho, total: Rho) -> None:
    """Refuse (``BudgetExceeded``, nothing written) a charge of ``rho`` that ``total`` has no room for."""
    used = spent(conn, policy.policy_id, policy.period_start, policy.period_end)
    if used.value + rho.value > total.value:
        raise BudgetExceeded(requested=rho.value, remaining=(total - used).value)


def release_record(
    policy: Policy,
    release_id: str,
    report_id: str,
    windows: Sequence[str],
    metrics: Sequence[str],
    rho: Rho,
    cells: int,
    blocks: Sequence[BlockMeasurement],
) -> dict[str, object]:
    """The audit log's ``release.record`` entry, which the books check reads back."""
    return {
        "release_id": release_id,
        "policy_id": policy.policy_id,
        "version": policy.version,
        "period_start": policy.period_start.isoformat(),
        "report_id": report_id,
        "windows": list(windows),
        "metrics": list(metrics),
        "rho": f"{rho.value.numerator}/{rho.value.denominator}",
        "cells": cells,
        "blocks": block_entries(blocks),
    }


def _overlaps(window_key: str, start: dt.date, end: dt.date) -> bool:
    window = Window.parse(window_key)
    return window.start < end and window.end > start


def record_release(
    conn: sa.Connection,
    *,
    release_id: str,
    active: ActivePolicy,
    report_id: str,
    spec_key: str,
    windows: Sequence[str],
    metrics: Sequence[str],
    rho: Rho,
    blocks: Sequence[BlockMeasurement],
    cells: Sequence[ReleasedCell],
    actor: str,
    total_budget: Rho,
    now: dt.datetime,
) -> ReleaseInfo:
    """Charge ``rho``, keep ``blocks`` and ``cells``, and audit it, if the budget allows; else write nothing.

    The caller's transaction must have locked the audit head first (``audit_log.lock_head``), so
    that no other release can charge between the budget check and the insert.
    """
    policy = active.policy
    check_still_active(conn, active)
    if total_budget > policy.rho:
        raise InternalError(
            f"a release asked to charge against {total_budget} "
            f"but policy '{policy.policy_id}' allows only {policy.rho}"
        )
    _check_catalogue(active, report_id, windows, metrics)
    if rho.value != sum((block.rho.value for block in blocks), Fraction(0)):
        raise InternalError("a release's charge is not the sum of the blocks it measured")
    already = measurement_cache.measured(conn, policy.policy_id, policy.period_start)
    repeated = sorted({block.block_key for block in blocks} & set(already))
    if repeated:
        raise InternalError(
            f"block '{repeated[0]}' was already measured in this period; use its measurements"
        )
    published = measurement_cache.published_keys(conn, policy.policy_id, policy.period_start, report_id)
    offered = {(cell.window, cell.metric) for cell in cells}
    if offered & published:
        raise InternalError(f"report '{report_id}' already published {sorted(offered & published)[0]}")
    if not offered <= {(window, name) for window in windows for name in metrics}:
        raise InternalError("a release publishes cells of windows or metrics it does not declare")
    if conn.execute(sa.select(releases.c.release_id).where(releases.c.release_id == release_id)).first():
        raise InternalError(f"release id '{release_id}' is already used")
    check_room(conn, policy, rho, total_budget)
    charge(
        conn,
        active,
        release_id,
        rho,
        actor,
        now,
        report_id=report_id,
        spec_key=spec_key,
        windows=json.dumps(list(windows)),
        metrics=json.dumps(list(metrics)),
        cells=len(cells),
    )
    measurement_cache.write_blocks(conn, policy.policy_id, policy.period_start, release_id, blocks)
    measurement_cache.write_cells(conn, policy.policy_id, policy.period_start, report_id, release_id, cells)
    audit_log.append(
        conn,
        now,
        actor,
        "release.record",
        release_record(policy, release_id, report_id, windows, metrics, rho, len(cells), blocks),
    )
    return _info(conn.execute(sa.select(releases).where(releases.c.release_id == release_id)).one())


def block_entries(blocks: Sequence[BlockMeasurement]) -> list[dict[str, object]]:
    """What the audit log's ``release.record`` keeps of each measured block (the books check reads it)."""
    return [
        {
            "block": block.block_key,
            "span": block.span_key,
            "rho": f"{block.rho.value.numerator}/{block.rho.value.denominator}",
            "rows_sha256": block.rows_sha256,
        }
        for block in blocks
    ]


#: The report id under which a bounds suggestion is recorded (it publishes no report cells).
BOUNDS_REPORT = "(bounds)"


def spent_on_bounds(conn: sa.Connection, policy_id: str, period_start: dt.date) -> Rho:
    """What suggesting bounds has charged so far in one policy period."""
    rows = conn.execute(
        sa.select(releases.c.rho_numerator, releases.c.rho_denominator).where(
            releases.c.policy_id == policy_id,
            releases.c.period_start == period_start,
            releases.c.report_id == BOUNDS_REPORT,
        )
    )
    return Rho(sum((stored_rho(row) for row in rows), Fraction(0)))


def record_bounds(
    conn: sa.Connection,
    *,
    release_id: str,
    active: ActivePolicy,
    block_key: str,
    rho: Rho,
    details: dict[str, object],
    actor: str,
    now: dt.datetime,
) -> ReleaseInfo:
    """Charge a bounds suggestion and audit what it found, if the budget allows; else write nothing."""
    policy = active.policy
    check_still_active(conn, active)
    check_room(conn, policy, rho, policy.rho)
    bounds_used = spent_on_bounds(conn, policy.policy_id, policy.period_start)
    if bounds_used.value + rho.value > policy.rho.value * policy.design.bounds_share:
        raise InternalError("a bounds suggestion asked for more than the policy's bounds_share")
    charge(
        conn,
        active,
        release_id,
        rho,
        actor,
        now,
        report_id=BOUNDS_REPORT,
        spec_key=f"bounds:{block_key}",
        windows=json.dumps([block_key]),
        metrics=json.dumps(sorted(policy.metric_names)),
        cells=0,
    )
    audit_log.append(
        conn,
        now,
        actor,
        "bounds.record",
        {
            "release_id": release_id,
            "policy_id": policy.policy_id,
            "version": policy.version,
            "period_start": policy.period_start.isoformat(),
            "block": block_key,
            "rho": f"{rho.value.numerator}/{rho.value.denominator}",
            **details,
        },
    )
    return _info(conn.execute(sa.select(releases).where(releases.c.release_id == release_id)).one())


def charge(
    conn: sa.Connection,
    active: ActivePolicy,
    release_id: str,
    rho: Rho,
    actor: str,
    now: dt.datetime,
    **release: object,
) -> None:
    """Write a release's row and its charge in the ledger (the caller's transaction commits both).

    Public for the other charged events (a rectification's re-measurement), which record their
    release the same way.
    """
    policy = active.policy
    amount = {"rho_numerator": str(rho.value.numerator), "rho_denominator": str(rho.value.denominator)}
    conn.execute(
        releases.insert().values(
            release_id=release_id,
            policy_id=policy.policy_id,
            policy_version=policy.version,
            policy_sha256=active.sha256,
            period_start=policy.period_start,
            released_by=actor,
            released_at=now,
            **release,
            **amount,
        )
    )
    conn.execute(
        ledger.insert().values(
            policy_id=policy.policy_id,
            period_start=policy.period_start,
            release_id=release_id,
            charged_at=now,
            **amount,
        )
    )


def check_still_active(conn: sa.Connection, active: ActivePolicy) -> None:
    """Refuse (``PolicyError``) when ``active`` is no longer the active version: nothing is charged."""
    # A suspension between the caller's check and this transaction must still stop the release.
    row = conn.execute(
        sa.select(policy_versions.c.version, policy_versions.c.sha256).where(
            policy_versions.c.policy_id == active.policy_id,
            policy_versions.c.state == PolicyState.ACTIVE.value,
        )
    ).one_or_none()
    if row is None or (row.version, row.sha256) != (active.version, active.sha256):
        raise PolicyError(
            f"Policy '{active.policy_id}' version {active.version} is no longer active. "
            "Nothing was released and nothing was charged.",
            "`teamlens policy list` shows the current state.",
        )


def _check_catalogue(
    active: ActivePolicy, report_id: str, windows: Sequence[str], metrics: Sequence[str]
) -> None:
    try:
        report = active.policy.report(report_id)
    except KeyError:
        raise ReleaseError(
            f"Report '{report_id}' is not in the catalogue of policy '{active.policy_id}'.",
            "Only the reports the policy lists can be released.",
        ) from None
    allowed_windows = {window.key for window in active.policy.windows(report.cadence)}
    for window in windows:
        if window not in allowed_windows:
            raise ReleaseError(
                f"Window '{window}' is not a {report.cadence.value} of report '{report_id}' "
                "inside the policy period.",
                "Releases use whole calendar windows inside the policy period only.",
            )
    for name in metrics:
        if name != HEADCOUNT and name not in report.metrics:
            raise ReleaseError(f"Metric '{name}' is not part of report '{report_id}'.")


def all_releases(conn: sa.Connection, policy_id: str | None) -> list[ReleaseInfo]:
    """List every recorded release (of ``policy_id`` if given), oldest first."""
    query = sa.select(releases).order_by(releases.c.released_at, releases.c.release_id)
    if policy_id is not None:
        query = query.where(releases.c.policy_id == policy_id)
    return [_info(row) for row in conn.execute(query).all()]


def _info(row: sa.Row[tuple[object, ...]]) -> ReleaseInfo:
    return ReleaseInfo(
        release_id=row.release_id,
        policy_id=row.policy_id,
        policy_version=row.policy_version,
        period_start=row.period_start,
        report_id=row.report_id,
        spec_key=row.spec_key,
        windows=tuple(json.loads(row.windows)),
        metrics=tuple(json.loads(row.metrics)),
        rho=Rho(stored_rho(row)),
        cells=row.cells,
        released_by=row.released_by,
        released_at=as_utc(row.released_at),
    )
