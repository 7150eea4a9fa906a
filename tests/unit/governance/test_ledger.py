"""The budget ledger and the kept measurements: exact charges, all-or-nothing, refused past the budget.

A release charges the blocks it measured (each block once per period), keeps their noisy values
and the cells it published, and records all of it in the audit log; ``check_books`` recomputes
the charges and measured blocks from the audit log and refuses when the ledger or the kept
values disagree (attack A25).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Sequence
from fractions import Fraction

import pyarrow as pa
import pytest
import sqlalchemy as sa

from teamlens.domain import MEASUREMENT_SCHEMA, STRUCTURE_SCHEMA, ReleasedCell, Rho
from teamlens.errors import BooksMismatch, BudgetExceeded, InternalError, PolicyError, ReleaseError
from teamlens.governance import ActivePolicy, BlockMeasurement, GovernanceDB
from teamlens.governance.measurement_cache import rows_digest

from .helpers import sign

REPORT = "department-monthly"
GROUPS = ("dept-b", "dept-a")


def rows(block: str = "2026-02", metrics: Sequence[str] = ("emails_sent",)) -> pa.Table:
    """Noisy weekly totals of two groups for the first two Mondays of ``block``'s month."""
    year, month = (int(part) for part in block.split("-"))
    first = dt.date(year, month, 1)
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    keys = [(g, monday + dt.timedelta(weeks=w), m) for m in metrics for g in GROUPS for w in range(2)]
    return pa.table(
        {
            "level": ["department"] * len(keys),
            "group": [key[0] for key in keys],
            "week": [key[1] for key in keys],
            "metric": [key[2] for key in keys],
            "noisy": [2**40 + index - 3 for index in range(len(keys))],
            "sigma": [0.1 + index / 3 for index in range(len(keys))],
            "scale": [16] * len(keys),
        },
        schema=MEASUREMENT_SCHEMA,
    )


def chart() -> pa.Table:
    return pa.table(
        {
            "level": ["department", "department"],
            "group": list(GROUPS),
            "parent_level": ["organisation", "organisation"],
            "parent_group": ["Organisation", "Organisation"],
        },
        schema=STRUCTURE_SCHEMA,
    )


def block(key: str, rho: str, table: pa.Table | None = None, span: str | None = None) -> BlockMeasurement:
    return BlockMeasurement(key, span, chart(), rows(key) if table is None else table, Rho.of(rho))


def _month(window: str) -> str:
    """The monthly block a test release measures for ``window`` (February for a window not a month)."""
    return window if len(window) == 7 and window[4] == "-" and window[5:].isdigit() else "2026-02"


def cells(window: str = "2026-02", metrics: Sequence[str] = ("emails_sent",)) -> list[ReleasedCell]:
    return [
        ReleasedCell(group, window, name, 1.5 + index, 1.0, 2.0 + index, total=10.0, person_weeks=40.0)
        for index, (group, name) in enumerate((g, m) for m in metrics for g in GROUPS)
    ] + [ReleasedCell("dept-small", window, name, None, None, None) for name in metrics]


def release(
    db: GovernanceDB,
    active: ActivePolicy,
    release_id: str,
    rho: str,
    *,
    blocks: Sequence[BlockMeasurement] | None = None,
    published: Sequence[ReleasedCell] | None = None,
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
        blocks=[block(_month(windows[0]), rho)] if blocks is None else blocks,
        cells=cells(windows[0], metrics) if published is None else published,
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
    start = active.policy.period_start
    release(db, active, "r1", "1.9")
    audit_before = db.verify_audit().entries
    with pytest.raises(BudgetExceeded) as caught:
        release(db, active, "r2", "0.2", windows=("2026-03",))
    assert caught.value.requested == Fraction(1, 5)
    assert caught.value.remaining == Fraction(1, 10)
    assert caught.value.difference == Fraction(1, 10)
    assert [info.release_id for info in db.releases()] == ["r1"]
    assert db.published_keys(active.policy_id, start, REPORT) == {("2026-02", "emails_sent")}
    assert sorted(db.measured_blocks(active.policy_id, start)) == ["2026-02"]
    assert db.measurements(active.policy_id, start, ["2026-03"]).num_rows == 0
    assert db.spent(active.policy_id, start).value == Fraction(19, 10)
    assert db.verify_audit().entries == audit_before


def test_the_budget_is_rechecked_inside_the_transaction(
    db: GovernanceDB, raw: sa.Engine, active: ActivePolicy
) -> None:
    # The caller saw 2.0 left; then another process charged 1.95 before this release committed.
    assert db.spent(active.policy_id, active.policy.period_start) == Rho.zero()
    release(db, active, "other", "0", blocks=[])
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
        ({"published": cells("2026-03")}, InternalError, "does not declare"),
        ({"blocks": [block("2026-02", "0.05")]}, InternalError, "not the sum of the blocks"),
        (
            {"blocks": [block("2026-02", "0.1", rows().drop_columns(["scale"]))]},
            InternalError,
            "MEASUREMENT_SCHEMA",
        ),
    ],
)
def test_releases_outside_the_catalogue_are_refused(
    db: GovernanceDB, active: ActivePolicy, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        release(db, active, "r1", "0.1", **kwargs)  # type: ignore[arg-type]
    assert db.releases() == []
    assert db.measured_blocks(active.policy_id, active.policy.period_start) == {}


def test_a_block_is_measured_once_and_a_cell_published_once(db: GovernanceDB, active: ActivePolicy) -> None:
    release(db, active, "r1", "0.1")
    with pytest.raises(InternalError, match="already measured in this period; use its measurements"):
        release(db, active, "r2", "0.1", published=[])
    with pytest.raises(InternalError, match="already published"):
        release(db, active, "r2", "0", blocks=[])
    with pytest.raises(InternalError, match="already used"):
        release(db, active, "r1", "0.1", windows=("2026-03",))
    # Another report may publish the same window, from the same kept block, at no cost.
    release(db, active, "r3", "0", blocks=[], report_id="team-quarterly", windows=("2026-Q1",), published=[])
    assert db.spent(active.policy_id, active.policy.period_start).value == Fraction(1, 10)


def test_kept_measurements_round_trip_exactly(db: GovernanceDB, active: ActivePolicy) -> None:
    start = active.policy.period_start
    february, march = rows("2026-02"), rows("2026-03", ("emails_sent", "chat_messages"))
    release(db, active, "r1", "0.1", blocks=[block("2026-02", "0.1", february, span="period")])
    release(db, active, "r2", "0.2", blocks=[block("2026-03", "0.2", march)], windows=("2026-03",))
    got = db.measurements(active.policy_id, start, ["2026-03"])
    assert got.schema.equals(MEASUREMENT_SCHEMA)
    order = [(name, "ascending") for name in ("level", "metric", "group", "week")]
    assert got.sort_by(order).to_pylist() == march.sort_by(order).to_pylist()  # int64 and float64 unchanged
    assert db.measurements(active.policy_id, start, ["2026-02", "2026-03"]).num_rows == 12
    assert db.measurements(active.policy_id, start, ["2026-05"]).num_rows == 0
    kept = db.measured_blocks(active.policy_id, start)
    assert sorted(kept) == ["2026-02", "2026-03"]
    first = kept["2026-02"]
    assert (first.span_key, first.rho, first.release_id) == ("period", Rho.of("0.1"), "r1")
    assert first.rows_sha256 == rows_digest(february)
    assert first.structure.equals(chart().sort_by([(n, "ascending") for n in STRUCTURE_SCHEMA.names]))
    assert kept["2026-03"].span_key is None


def test_published_cells_round_trip_exactly(db: GovernanceDB, active: ActivePolicy) -> None:
    start = active.policy.period_start
    release(db, active, "r1", "0.25", metrics=("emails_sent", "chat_messages"))
    release(
        db,
        active,
        "r2",
        "0.5",
        report_id="team-quarterly",
        windows=("2026-Q2",),
        published=[],
        blocks=[block("2026-04", "0.5")],
    )
    assert db.published_keys(active.policy_id, start, REPORT) == {
        ("2026-02", "emails_sent"),
        ("2026-02", "chat_messages"),
    }
    assert db.published_keys(active.policy_id, start, "team-quarterly") == set()
    kept = db.published_cells(active.policy_id, start, REPORT, ["2026-02"])
    expected = sorted(
        cells("2026-02", ("emails_sent", "chat_messages")), key=lambda c: (c.window, c.metric, c.group)
    )
    assert [cell for cell, _ in kept] == expected
    assert {by for _, by in kept} == {"r1"}
    assert db.published_cells(active.policy_id, start, REPORT, ["2026-03"]) == []


def test_releases_describe_what_was_released(db: GovernanceDB, active: ActivePolicy) -> None:
    release(db, active, "r1", "0.25", metrics=("emails_sent", "chat_messages"))
    release(
        db,
        active,
        "r2",
        "0.5",
        report_id="team-quarterly",
        windows=("2026-Q2",),
        published=[],
        blocks=[block("2026-04", "0.5")],
    )
    first, second = db.releases(active.policy_id)
    assert (first.release_id, first.report_id, first.windows, first.rho) == (
        "r1",
        REPORT,
        ("2026-02",),
        Rho.of("0.25"),
    )
    assert first.metrics == ("emails_sent", "chat_messages")
    assert (first.cells, first.policy_version, first.spec_key) == (6, 1, "spec-r1")
    assert (second.report_id, second.released_by, second.cells) == ("team-quarterly", "analyst:ann", 0)
    assert db.releases("another-policy") == []
    assert db.released_windows() == {"r1": frozenset({"2026-02"})}


def test_a_release_is_audited_without_group_names(db: GovernanceDB, active: ActivePolicy) -> None:
    kept = block("2026-02", "1/8", span="period")
    release(db, active, "r1", "1/8", blocks=[kept])
    entry = db.audit_entries(limit=1)[0]
    assert entry.action == "release.record"
    assert entry.details == {
        "release_id": "r1",
        "policy_id": active.policy_id,
        "version": 1,
        "period_start": active.policy.period_start.isoformat(),
        "report_id": REPORT,
        "windows": ["2026-02"],
        "metrics": ["emails_sent"],
        "rho": "1/8",
        "cells": 3,
        "blocks": [{"block": "2026-02", "span": "period", "rho": "1/8", "rows_sha256": kept.rows_sha256}],
    }
    text = json.dumps(entry.details)
    assert not any(group in text for group in (*GROUPS, "dept-small"))


def test_the_books_agree_until_the_ledger_or_a_kept_value_is_changed(
    db: GovernanceDB, raw: sa.Engine, active: ActivePolicy
) -> None:
    start = active.policy.period_start
    release(db, active, "r1", "0.1")
    release(db, active, "r2", "0.2", windows=("2026-03",))
    db.check_books(active.policy_id, start, using=["2026-02", "2026-03"])  # agree: no exception
    with raw.begin() as conn:
        conn.execute(sa.text("UPDATE measurements SET noisy = noisy + 1 WHERE block_key = '2026-03'"))
    db.check_books(active.policy_id, start, using=["2026-02"])  # the altered block is not read
    with pytest.raises(BooksMismatch, match="noisy values of block '2026-03' were altered"):
        db.check_books(active.policy_id, start, using=["2026-03"])
    with raw.begin() as conn:
        conn.execute(sa.text("UPDATE measurements SET noisy = noisy - 1 WHERE block_key = '2026-03'"))
        conn.execute(sa.text("DELETE FROM ledger WHERE release_id = 'r1'"))
    with pytest.raises(BooksMismatch, match=r"the ledger holds ρ = 0\.2 for this period") as caught:
        db.check_books(active.policy_id, start)
    assert "Nothing was released" in str(caught.value)
    recorded = [entry for entry in db.audit_entries(limit=5) if entry.action == "ledger.mismatch"]
    assert recorded[0].details["problem"] == caught.value.problem  # newest first; both refusals recorded
    assert len(recorded) == 2
    assert db.verify_audit().ok


def test_a_deleted_measured_block_is_a_mismatch(
    db: GovernanceDB, raw: sa.Engine, active: ActivePolicy
) -> None:
    release(db, active, "r1", "0.1")
    with raw.begin() as conn:
        conn.execute(sa.text("DELETE FROM measured_blocks"))
    with pytest.raises(BooksMismatch, match=r"measured blocks kept differ .* '2026-02'"):
        db.check_books(active.policy_id, active.policy.period_start)


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
