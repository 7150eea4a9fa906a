"""Charge the privacy budget and cache released cells, all-or-nothing, inside one transaction.

The ledger holds one charge per release, per policy and period (``policy_id``, ``period_start``);
zCDP composes by addition, so what a period has spent is the exact sum of its charges. Released
noisy totals are cached so that asking again costs nothing and returns the same numbers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from fractions import Fraction

import pyarrow as pa
import sqlalchemy as sa

from teamlens.domain import HEADCOUNT, NOISY_SCHEMA, Rho, Window
from teamlens.errors import BudgetExceeded, InternalError, PolicyError, ReleaseError
from teamlens.governance import audit_log
from teamlens.governance.records import ActivePolicy, PolicyState, ReleaseInfo
from teamlens.governance.tables import as_utc, ledger, policy_versions, released_cells, releases


def spent(
    conn: sa.Connection, policy_id: str, period_start: dt.date, period_end: dt.date | None = None
) -> Rho:
    """Sum, exactly, the budget charged so far in one policy period.

    With ``period_end``, charges made under *other* policies whose released windows overlap
    [period_start, period_end) count too: the privacy unit is a person over those weeks, so a
    new policy id over weeks already released must not start with a fresh budget (attack A13).
    """
    rows = conn.execute(
        sa.select(ledger.c.rho_numerator, ledger.c.rho_denominator).where(
            ledger.c.policy_id == policy_id, ledger.c.period_start == period_start
        )
    )
    total = sum((Fraction(int(row.rho_numerator), int(row.rho_denominator)) for row in rows), Fraction(0))
    if period_end is not None:
        others = conn.execute(
            sa.select(releases.c.windows, releases.c.rho_numerator, releases.c.rho_denominator).where(
                sa.or_(releases.c.policy_id != policy_id, releases.c.period_start != period_start)
            )
        )
        for row in others:
            if any(_overlaps(key, period_start, period_end) for key in json.loads(row.windows)):
                total += Fraction(int(row.rho_numerator), int(row.rho_denominator))
    return Rho(total)


def _overlaps(window_key: str, start: dt.date, end: dt.date) -> bool:
    window = Window.parse(window_key)
    return window.start < end and window.end > start


def released_keys(
    conn: sa.Connection, policy_id: str, period_start: dt.date, report_id: str
) -> set[tuple[str, str]]:
    """Return the (window, metric) pairs of a report already released in this period."""
    rows = conn.execute(
        sa.select(released_cells.c.window_key, released_cells.c.metric)
        .distinct()
        .where(*_cell_filter(policy_id, period_start, report_id))
    )
    return {(row.window_key, row.metric) for row in rows}


def cached_cells(
    conn: sa.Connection, policy_id: str, period_start: dt.date, report_id: str, windows: Sequence[str]
) -> pa.Table:
    """Read the cached noisy totals of a report's ``windows`` as a ``NOISY_SCHEMA`` table."""
    rows = conn.execute(
        sa.select(
            released_cells.c.group_key,
            released_cells.c.window_key,
            released_cells.c.metric,
            released_cells.c.noisy_total,
            released_cells.c.sigma,
        )
        .where(
            *_cell_filter(policy_id, period_start, report_id), released_cells.c.window_key.in_(list(windows))
        )
        .order_by(released_cells.c.window_key, released_cells.c.metric, released_cells.c.group_key)
    ).all()
    # The select lists its columns in NOISY_SCHEMA's order: group, window, metric, noisy_total, sigma.
    arrays = [
        pa.array([row[index] for row in rows], type=field.type) for index, field in enumerate(NOISY_SCHEMA)
    ]
    return pa.Table.from_arrays(arrays, schema=NOISY_SCHEMA)


def windows_by_release(conn: sa.Connection) -> dict[str, frozenset[str]]:
    """Map each release id to the windows whose cells it computed."""
    found: dict[str, set[str]] = {}
    query = sa.select(released_cells.c.release_id, released_cells.c.window_key).distinct()
    for row in conn.execute(query):
        found.setdefault(row.release_id, set()).add(row.window_key)
    return {release: frozenset(windows) for release, windows in found.items()}


def _cell_filter(policy_id: str, period_start: dt.date, report_id: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        released_cells.c.policy_id == policy_id,
        released_cells.c.period_start == period_start,
        released_cells.c.report_id == report_id,
    )


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
    cells: pa.Table,
    actor: str,
    total_budget: Rho,
    now: dt.datetime,
) -> ReleaseInfo:
    """Charge ``rho`` and cache ``cells`` if the period's budget allows; otherwise write nothing.

    The caller's transaction must have locked the audit head first (``audit_log.lock_head``), so
    that no other release can charge between the budget check and the insert.
    """
    policy = active.policy
    _check_still_active(conn, active)
    if total_budget > policy.rho:
        raise InternalError(
            f"a release asked to charge against {total_budget} "
            f"but policy '{policy.policy_id}' allows only {policy.rho}"
        )
    _check_catalogue(active, report_id, windows, metrics)
    _check_cells(cells, windows, metrics)
    already = released_keys(conn, policy.policy_id, policy.period_start, report_id)
    offered = zip(cells.column("window").to_pylist(), cells.column("metric").to_pylist(), strict=True)
    repeated = sorted(already & set(offered))
    if repeated:
        raise InternalError(f"cell {repeated[0]} of report '{report_id}' was already released; use the cache")
    if conn.execute(sa.select(releases.c.release_id).where(releases.c.release_id == release_id)).first():
        raise InternalError(f"release id '{release_id}' is already used")
    used = spent(conn, policy.policy_id, policy.period_start, policy.period_end)
    if used.value + rho.value > total_budget.value:
        raise BudgetExceeded(requested=rho.value, remaining=(total_budget - used).value)
    conn.execute(
        releases.insert().values(
            release_id=release_id,
            policy_id=policy.policy_id,
            policy_version=policy.version,
            policy_sha256=active.sha256,
            period_start=policy.period_start,
            report_id=report_id,
            spec_key=spec_key,
            windows=json.dumps(list(windows)),
            metrics=json.dumps(list(metrics)),
            rho_numerator=str(rho.value.numerator),
            rho_denominator=str(rho.value.denominator),
            cells=cells.num_rows,
            released_by=actor,
            released_at=now,
        )
    )
    conn.execute(
        ledger.insert().values(
            policy_id=policy.policy_id,
            period_start=policy.period_start,
            release_id=release_id,
            rho_numerator=str(rho.value.numerator),
            rho_denominator=str(rho.value.denominator),
            charged_at=now,
        )
    )
    if cells.num_rows:
        conn.execute(
            released_cells.insert(),
            [
                {
                    "policy_id": policy.policy_id,
                    "period_start": policy.period_start,
                    "report_id": report_id,
                    "window_key": cell["window"],
                    "metric": cell["metric"],
                    "group_key": cell["group"],
                    "noisy_total": cell["noisy_total"],
                    "sigma": cell["sigma"],
                    "release_id": release_id,
                }
                for cell in cells.to_pylist()
            ],
        )
    audit_log.append(
        conn,
        now,
        actor,
        "release.record",
        {
            "release_id": release_id,
            "policy_id": policy.policy_id,
            "version": policy.version,
            "report_id": report_id,
            "windows": list(windows),
            "metrics": list(metrics),
            "rho": f"{rho.value.numerator}/{rho.value.denominator}",
            "cells": cells.num_rows,
        },
    )
    return _info(conn.execute(sa.select(releases).where(releases.c.release_id == release_id)).one())


def _check_still_active(conn: sa.Connection, active: ActivePolicy) -> None:
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


def _check_cells(cells: pa.Table, windows: Sequence[str], metrics: Sequence[str]) -> None:
    if not cells.schema.equals(NOISY_SCHEMA):
        raise InternalError(f"released cells must have NOISY_SCHEMA, got {cells.schema}")
    stray_windows = set(cells.column("window").to_pylist()) - set(windows)
    stray_metrics = set(cells.column("metric").to_pylist()) - set(metrics) - {HEADCOUNT}
    if stray_windows or stray_metrics:
        raise InternalError(
            f"released cells hold windows {sorted(stray_windows)} or metrics {sorted(stray_metrics)} "
            "that the release does not declare"
        )


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
        rho=Rho(Fraction(int(row.rho_numerator), int(row.rho_denominator))),
        cells=row.cells,
        released_by=row.released_by,
        released_at=as_utc(row.released_at),
    )
