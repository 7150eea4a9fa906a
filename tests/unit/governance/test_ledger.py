"""The budget ledger and release cache: exact charges, all-or-nothing, refused past the budget."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from fractions import Fraction

import pyarrow as pa
import pytest
import sqlalchemy as sa

from teamlens.domain import HEADCOUNT, NOISY_SCHEMA, Rho
from teamlens.errors import BudgetExceeded, InternalError, PolicyError, ReleaseError
from teamlens.governance import ActivePolicy, GovernanceDB

from .helpers import sign

REPORT = "department-monthly"


def cells(window: str = "2026-02", metrics: Sequence[str] = ("emails_sent", HEADCOUNT)) -> pa.Table:
    groups = ["dept-b", "dept-a"]
    rows = [(group, window, metric) for metric in metrics for group in groups]
    return pa.table(
        {
            "group": [row[0] for row in rows],
            "window": [row[1] for row in rows],
            "metric": [row[2] for row in rows],
            "noisy_total": [2**40 + index - 3 for index in range(len(rows))],
            "sigma": [0.1 + index / 3 for index in range(len(rows))],
        },
        schema=NOISY_SCHEMA,
    )


def release(
    db: GovernanceDB,
    active: ActivePolicy,
    release_id: str,
    rho: str,
    table: pa.Table | None = None,
    *,
    report_id: str = REPORT,
    windows: Sequence[str] = ("2026-02",),
    metrics: Sequence[str] = ("emails_sent",),
    total_budget: Rho | None = None,
) -> None:
    db.record_release(
        release_id=release_id,
        active=active,
        report_id=report_id,
        spec_key=f"spec-{release_id}",
        windows=windows,
        metrics=metrics,
        rho=Rho.of(rho),
        cells=cells(windows[0], sorted({*metrics, HEADCOUNT})) if table is None else table,
        actor="analyst:ann",
        total_budget=active.policy.rho if total_budget is None else total_budget,
    )


def test_charges_add_up_exactly(db: GovernanceDB, active: ActivePolicy) -> None:
    start = active.policy.period_start
    assert db.spent(active.policy_id, start) == Rho.zero()
    release(db, active, "r1", "1/10")
    release(db, active, "r2", "1/3", windows=("2026-03",))
    assert db.spent(active.policy_id, start).value == Fraction(13, 30)
    assert db.spent(active.policy_id, start.replace(year=2027)) == Rho.zero()  # another period
    assert db.spent("another-policy", start) == Rho.zero()


def test_spending_exactly_the_whole_budget_is_allowed(db: GovernanceDB, active: ActivePolicy) -> None:
    # 2 = 3 × 2/3 exactly; with floats 2/3 + 2/3 + 2/3 would not compare equal to 2.
    for number, window in enumerate(("2026-02", "2026-03", "2026-04")):
        release(db, active, f"r{number}", "2/3", windows=(window,))
    assert db.spent(active.policy_id, active.policy.period_start) == active.policy.rho


def test_over_budget_is_refused_with_nothing_written(db: GovernanceDB, active: ActivePolicy) -> None:
    release(db, active, "r1", "1.9")
    audit_before = db.verify_audit().entries
    with pytest.raises(BudgetExceeded) as caught:
        release(db, active, "r2", "0.2", windows=("2026-03",))
    assert caught.value.requested == Fraction(1, 5)
    assert caught.value.remaining == Fraction(1, 10)
    assert caught.value.difference == Fraction(1, 10)
    assert [info.release_id for info in db.releases()] == ["r1"]
    assert db.released_keys(active.policy_id, active.policy.period_start, REPORT) == {
        ("2026-02", "emails_sent"),
        ("2026-02", HEADCOUNT),
    }
    assert db.spent(active.policy_id, active.policy.period_start).value == Fraction(19, 10)
    assert db.verify_audit().entries == audit_before


def test_the_budget_is_rechecked_inside_the_transaction(
    db: GovernanceDB, raw: sa.Engine, active: ActivePolicy
) -> None:
    # The caller saw 2.0 left; then another process charged 1.95 before this release committed.
    assert db.spent(active.policy_id, active.policy.period_start) == Rho.zero()
    release(db, active, "other", "0")
    with raw.begin() as conn:
        conn.execute(sa.text("UPDATE ledger SET rho_numerator = '39', rho_denominator = '20'"))
    with pytest.raises(BudgetExceeded):
        release(db, active, "mine", "0.1", windows=("2026-03",))
    assert [info.release_id for info in db.releases()] == ["other"]


def test_a_budget_larger_than_the_policy_allows_is_a_bug(db: GovernanceDB, active: ActivePolicy) -> None:
    with pytest.raises(InternalError, match="allows only"):
        release(db, active, "r1", "0.1", total_budget=Rho.of(1000))
    assert db.releases() == []


def test_a_release_after_suspension_is_refused(db: GovernanceDB, active: ActivePolicy) -> None:
    db.suspend(active.policy_id, sign(db, "representative", "policy.suspend", active.policy_id), "rep:rob")
    with pytest.raises(PolicyError, match="is no longer active"):
        release(db, active, "r1", "0.1")
    assert db.spent(active.policy_id, active.policy.period_start) == Rho.zero()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"report_id": "person-weekly"}, ReleaseError, "is not in the catalogue"),
        ({"windows": ("2026-W06",)}, ReleaseError, "is not a month of report"),
        ({"windows": ("2026-07",)}, ReleaseError, "inside the policy period"),
        ({"metrics": ("after_hours_minutes",)}, ReleaseError, "is not part of report"),
        ({"table": cells("2026-03")}, InternalError, "does not declare"),
        ({"table": cells().drop_columns(["sigma"])}, InternalError, "NOISY_SCHEMA"),
    ],
)
def test_releases_outside_the_catalogue_are_refused(
    db: GovernanceDB, active: ActivePolicy, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        release(db, active, "r1", "0.1", **kwargs)  # type: ignore[arg-type]
    assert db.releases() == []


def test_a_cell_is_released_only_once(db: GovernanceDB, active: ActivePolicy) -> None:
    release(db, active, "r1", "0.1")
    with pytest.raises(InternalError, match="already released; use the cache"):
        release(db, active, "r2", "0.1")
    with pytest.raises(InternalError, match="already used"):
        release(db, active, "r1", "0.1", windows=("2026-03",))
    assert db.spent(active.policy_id, active.policy.period_start).value == Fraction(1, 10)


def test_cached_cells_round_trip_exactly(db: GovernanceDB, active: ActivePolicy) -> None:
    february, march = cells("2026-02"), cells("2026-03")
    release(db, active, "r1", "0.1", february)
    release(db, active, "r2", "0.1", march, windows=("2026-03",))
    start = active.policy.period_start
    got = db.released_cells(active.policy_id, start, REPORT, ["2026-03"])
    assert got.schema.equals(NOISY_SCHEMA)
    order = [("metric", "ascending"), ("group", "ascending")]
    assert got.to_pylist() == march.sort_by(order).to_pylist()  # int64 and float64 unchanged
    both = db.released_cells(active.policy_id, start, REPORT, ["2026-02", "2026-03"])
    assert both.num_rows == february.num_rows + march.num_rows
    assert db.released_cells(active.policy_id, start, "team-quarterly", ["2026-03"]).num_rows == 0
    assert db.released_cells(active.policy_id, start, REPORT, ["2026-05"]).schema.equals(NOISY_SCHEMA)


def test_released_keys_and_releases_describe_what_was_released(
    db: GovernanceDB, active: ActivePolicy
) -> None:
    release(db, active, "r1", "0.25", metrics=("emails_sent", "chat_messages", HEADCOUNT))
    release(
        db, active, "r2", "0.5", report_id="team-quarterly", windows=("2026-Q2",), metrics=("emails_sent",)
    )
    start = active.policy.period_start
    assert db.released_keys(active.policy_id, start, REPORT) == {
        ("2026-02", "emails_sent"),
        ("2026-02", "chat_messages"),
        ("2026-02", HEADCOUNT),
    }
    assert db.released_keys(active.policy_id, start, "team-quarterly") == {
        ("2026-Q2", "emails_sent"),
        ("2026-Q2", HEADCOUNT),
    }
    first, second = db.releases(active.policy_id)
    assert (first.release_id, first.report_id, first.windows, first.rho) == (
        "r1",
        REPORT,
        ("2026-02",),
        Rho.of("0.25"),
    )
    assert first.metrics == ("emails_sent", "chat_messages", HEADCOUNT)
    assert (first.cells, first.policy_version, first.spec_key) == (6, 1, "spec-r1")
    assert (second.report_id, second.released_by) == ("team-quarterly", "analyst:ann")
    assert db.releases("another-policy") == []


def test_a_release_is_audited_without_group_names(db: GovernanceDB, active: ActivePolicy) -> None:
    release(db, active, "r1", "1/8")
    entry = db.audit_entries(limit=1)[0]
    assert entry.action == "release.record"
    assert entry.details == {
        "release_id": "r1",
        "policy_id": active.policy_id,
        "version": 1,
        "report_id": REPORT,
        "windows": ["2026-02"],
        "metrics": ["emails_sent"],
        "rho": "1/8",
        "cells": 4,
    }


def test_concurrent_releases_cannot_overspend(
    database_url: str, db: GovernanceDB, active: ActivePolicy
) -> None:
    # Two processes each see 2.0 left and ask for 1.5: exactly one may be charged.
    others = [GovernanceDB(database_url) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def run(governance: GovernanceDB, window: str) -> None:
        start.wait()
        try:
            release(governance, active, f"r-{window}", "1.5", windows=(window,))
            outcomes.append("charged")
        except BudgetExceeded:
            outcomes.append("refused")

    threads = [
        threading.Thread(target=run, args=pair) for pair in zip(others, ("2026-02", "2026-03"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for governance in others:
        governance.close()
    assert sorted(outcomes) == ["charged", "refused"]
    assert db.spent(active.policy_id, active.policy.period_start).value == Fraction(3, 2)
    assert db.verify_audit().ok
