"""The core flow end to end: synthetic exports → pseudonymised facts → DP team report."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import math
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from teamlens import services
from teamlens.domain import Window
from teamlens.errors import BudgetExceeded, InputFormatError, NoApprovedPolicy, PolicyError

from ..support.orgs import ingested, org_fixture
from .flow_support import Org, approve_policy, build_org, files_under, policy_text

org = org_fixture(ingested)


def approved_small(root: Path) -> Org:
    """40 workers over 2 weeks, the template policy approved, nothing ingested."""
    return build_org(root, people=40, weeks=2)


small_org = org_fixture(approved_small)


def _identifiers(org: Org) -> set[str]:
    """Every UPN, email, display name and user id in the raw exports."""
    found: set[str] = set()
    with open(org.synth.directory_csv, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found.update({row["Email"], row["Display Name"], row["Manager Email"]} - {""})
    for report in org.synth.email_reports + org.synth.teams_reports:
        with open(report, encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                for column in ("User Principal Name", "Display Name", "User Id"):
                    if row.get(column):
                        found.add(row[column])
    return found


def _placed(directory: pd.DataFrame, monday: dt.date) -> pd.DataFrame:
    """Directory rows valid on ``monday``: one per person (their latest row starting by then)."""
    day = monday.isoformat()
    valid = directory[
        (directory["Valid From"] <= day) & ((directory["Valid To"] == "") | (directory["Valid To"] > day))
    ]
    return valid.sort_values("Valid From").groupby("Email").tail(1)


def _weekly_counts(org: Org, column: str) -> dict[dt.date, pd.Series]:
    """Each week's value of ``column`` per address, from the weekly usage reports."""
    found = {}
    for report in org.synth.email_reports:
        frame = pd.read_csv(report, encoding="utf-8-sig")
        monday = dt.date.fromisoformat(frame["Report Refresh Date"].iloc[0]) - dt.timedelta(days=6)
        found[monday] = frame.set_index(frame["User Principal Name"].str.lower())[column]
    return found


def _expected_department_means(
    org: Org, window: Window, column: str, bound: int, first_block: Window
) -> dict[str, float]:
    """Means per person per week computed straight from the raw CSVs with pandas (docs/privacy-model.md).

    Each week a person counts in their department that Monday; a person's weekly values over a
    clipping block (the month) are scaled down together when their root-mean-square exceeds the
    per-week bound, in fixed point of 16 units per email, rounded down; group sizes are the
    person-weeks of the headcount span's first block (January) per week.
    """
    directory = pd.read_csv(org.synth.directory_csv, dtype=str, keep_default_na=False)
    directory["Email"] = directory["Email"].str.lower()
    weekly = _weekly_counts(org, column)
    scale = 16  # the fixed-point scale for a bound of 100 per week
    values = pd.DataFrame(
        {monday: weekly.get(monday, pd.Series(dtype=float)) for monday in window.weeks}
    ).fillna(0)
    values = values.clip(lower=0)
    norms = (values.astype(float) ** 2).sum(axis=1) ** 0.5
    limit = bound * len(window.weeks) ** 0.5
    factor = (limit / norms).where(norms > limit, 1.0)
    clipped = values.apply(
        lambda week: [
            v * scale if f == 1.0 else math.floor(v * scale * f * (1 - 1e-12))
            for v, f in zip(week, factor, strict=True)
        ]
    )
    totals: dict[str, float] = {}
    for monday in window.weeks:
        members = _placed(directory, monday).set_index("Email")["Department"]
        week = clipped[monday].reindex(members.index).fillna(0)
        for department, value in week.groupby(members.to_numpy()).sum().items():
            totals[department] = totals.get(department, 0.0) + value / scale
    person_weeks: dict[str, int] = {}
    for monday in first_block.weeks:
        for department, size in _placed(directory, monday)["Department"].value_counts().items():
            person_weeks[department] = person_weeks.get(department, 0) + int(size)
    return {
        department: totals.get(department, 0.0)
        / (person_weeks[department] / first_block.n_weeks * window.n_weeks)
        for department in person_weeks
    }


def test_no_identifier_from_the_input_appears_under_the_data_folder(org: Org) -> None:
    identifiers = _identifiers(org)
    assert len(identifiers) > 600
    data = org.ws.settings.data_dir
    for path in files_under(data):
        content = path.read_bytes().lower()
        for identifier in identifiers:
            assert identifier.lower().encode() not in content, f"an input identifier leaked into {path.name}"


def test_reingesting_the_same_exports_changes_nothing(org: Org) -> None:
    before = {p.relative_to(org.ws.settings.data_dir): p.read_bytes() for p in files_under(org.ws.store.root)}
    summary = services.ingest(org.ws, [org.exports], actor="admin")
    assert {outcome.status for outcome in summary.files} == {"already ingested", "passed over"}  # README.txt
    after = {p.relative_to(org.ws.settings.data_dir): p.read_bytes() for p in files_under(org.ws.store.root)}
    assert after == before


def test_a_repeated_release_is_free_and_identical(org: Org) -> None:
    first = services.release(org.ws, "department-monthly", ["2026-01"], actor="t")
    spent = org.ws.governance.spent(first.policy_id, dt.date(2025, 12, 29))
    again = services.release(org.ws, "department-monthly", ["2026-01"], actor="t")
    assert first.rho_charged > 0
    assert again.rho_charged == 0
    assert org.ws.governance.spent(first.policy_id, dt.date(2025, 12, 29)) == spent
    assert again.cells == first.cells


def test_over_budget_is_refused_with_requested_remaining_and_difference(tmp_path: Path) -> None:
    org = build_org(tmp_path, people=60, weeks=10)
    services.ingest(org.ws, [org.exports], actor="admin")
    first = services.release(org.ws, "department-monthly", ["2026-01"], actor="t")
    policy = org.ws.governance.require_active_policy("test").policy
    # A new version of the same policy for the same period keeps the ledger: with a budget
    # smaller than what was already spent, any further release must be refused.
    tighter = policy_text(**{f"version = {policy.version}": f"version = {policy.version + 1}"})
    tighter = re.sub(r'^rho = "[^"]+"', f'rho = "{policy.rho.value / 100}"', tighter, flags=re.M)
    approve_policy(org.ws, tighter, tmp_path / "tighter.toml")
    spent = org.ws.governance.spent(policy.policy_id, policy.period_start)
    assert spent.value > 0
    with pytest.raises(BudgetExceeded) as refused:
        services.release(org.ws, "department-monthly", ["2026-02"], actor="t")
    error = refused.value
    assert error.remaining == 0
    assert error.requested > 0
    assert error.difference == error.requested - error.remaining
    assert "remains" in error.message
    assert "short by" in error.message
    assert org.ws.governance.spent(policy.policy_id, policy.period_start) == spent
    again = services.release(org.ws, "department-monthly", ["2026-01"], actor="t")
    assert again.cells == first.cells  # what was released stays available at no cost


def test_without_an_approved_policy_nothing_is_ingested_or_released(tmp_path: Path) -> None:
    org = build_org(tmp_path, people=40, weeks=2, approve=False)
    before = files_under(org.ws.settings.data_dir)
    with pytest.raises(NoApprovedPolicy, match="no approved policy"):
        services.ingest(org.ws, [org.exports], actor="admin")
    with pytest.raises(NoApprovedPolicy):
        services.release(org.ws, "department-monthly", ["2026-01"], actor="t")
    assert not org.ws.settings.facts_dir.exists() or not files_under(org.ws.settings.facts_dir / "months")
    assert files_under(org.ws.settings.data_dir) == before


ALL_SOURCES = 'sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv"]'


def test_an_export_from_a_source_the_policy_does_not_list_is_refused_and_nothing_is_ingested(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Purpose limitation: the approved policy names the connectors that may be read, nothing else."""
    org = build_org(tmp_path, people=40, weeks=2, approve=False)
    no_teams = 'sources = ["m365_email_activity", "hr_directory_csv"]'
    approve_policy(org.ws, policy_text(**{ALL_SOURCES: no_teams}), org.policy_file)
    teams_report = org.synth.teams_reports[0]
    with pytest.raises(PolicyError, match="'m365_teams_activity' export, which the approved") as refused:
        services.ingest(org.ws, [org.exports], actor="admin")
    assert str(teams_report) in refused.value.message and "Nothing was ingested" in refused.value.message
    assert not org.ws.settings.facts_dir.exists() or not files_under(org.ws.settings.facts_dir / "months")
    assert not [e for e in org.ws.governance.audit_entries(limit=50) if e.action.startswith("ingest")]
    # Leaving the Teams reports out, the same folder's other exports are read.
    allowed = [org.synth.directory_csv, *org.synth.email_reports]
    assert {outcome.source for outcome in services.ingest(org.ws, allowed, actor="admin").files} == {
        "hr_directory_csv",
        "m365_email_activity",
    }
    # Teeth: without the check, the Teams report's counts would be stored.
    ingest_module = importlib.import_module("teamlens.services.ingest")  # the package exports ingest()
    monkeypatch.setattr(ingest_module, "_check_allowed", lambda *_: None)
    services.ingest(org.ws, [teams_report], actor="admin")
    stored = {row["source"] for f in files_under(org.ws.settings.facts_dir / "months") for row in
              pq.read_table(f, columns=["source"]).to_pylist()}  # fmt: skip
    assert "m365_teams_activity" in stored


@pytest.mark.parametrize(
    ("damage", "line", "column"),
    [
        (lambda rows: [rows[0].replace(",Send Count", ",Sent"), *rows[1:]], 1, None),
        (
            lambda rows: [
                *rows[:3],
                rows[3].replace(",7\r\n", ",seven\r\n").replace(",7\n", ",seven\n"),
                *rows[4:],
            ],
            4,
            "Report Period",
        ),
        (lambda rows: [*rows[:5], rows[5][: len(rows[5]) // 2]], 6, None),
    ],
    ids=["missing column", "bad number", "truncated"],
)
def test_a_malformed_report_names_file_line_column_and_leaves_the_store_as_before(
    small_org: Org,
    tmp_path: Path,
    damage,
    line: int,
    column: str | None,  # type: ignore[no-untyped-def]
) -> None:
    org = small_org
    services.ingest(org.ws, [org.synth.directory_csv, org.synth.email_reports[0]], actor="admin")
    before = {p: p.read_bytes() for p in files_under(org.ws.store.root)}
    broken = tmp_path / "EmailActivityUserDetail_broken.csv"
    rows = org.synth.email_reports[1].read_text(encoding="utf-8-sig").splitlines(keepends=True)
    broken.write_text("\ufeff" + "".join(damage(rows)), encoding="utf-8")
    with pytest.raises(InputFormatError) as failure:
        services.ingest(org.ws, [broken], actor="admin")
    assert failure.value.file == str(broken)
    assert failure.value.line == line
    if column:
        assert failure.value.field == column
    assert {p: p.read_bytes() for p in files_under(org.ws.store.root)} == before


def test_a_directory_export_without_people_is_refused_and_the_stored_directory_kept(
    small_org: Org, tmp_path: Path
) -> None:
    # A directory ingest replaces the stored directory, so an empty one would silently wipe it.
    org = small_org
    services.ingest(org.ws, [org.synth.directory_csv], actor="admin")
    before = {p: p.read_bytes() for p in files_under(org.ws.store.root)}
    header_only = tmp_path / "directory_header_only.csv"
    header_only.write_text(
        org.synth.directory_csv.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8"
    )
    with pytest.raises(InputFormatError) as failure:
        services.ingest(org.ws, [header_only], actor="admin")
    assert failure.value.file == str(header_only)
    assert "no people" in failure.value.message
    assert {p: p.read_bytes() for p in files_under(org.ws.store.root)} == before


def test_a_release_never_changes_what_another_report_published(tmp_path: Path) -> None:
    org = build_org(tmp_path, people=120, weeks=13)
    services.ingest(org.ws, [org.exports], actor="admin")
    first = services.release(org.ws, "department-monthly", ["2026-01"], actor="t")
    quarter = services.release(
        org.ws, "team-quarterly", ["2026-Q1"], actor="t"
    )  # measures February and March
    assert quarter.rho_charged > 0
    february = services.release(org.ws, "department-monthly", ["2026-02"], actor="t")
    assert february.rho_charged == 0  # its blocks were measured for the quarter: nothing new to pay
    again = services.release(org.ws, "department-monthly", ["2026-01"], actor="t")
    assert again.cells == first.cells
    assert again.release_id == first.release_id  # a repeat names the release that published it
    assert again.rho_charged == 0
