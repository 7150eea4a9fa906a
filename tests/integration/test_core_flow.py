"""The core flow end to end: synthetic exports → pseudonymised facts → DP team report."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from teamlens import services
from teamlens.domain import Cadence, Window
from teamlens.errors import BudgetExceeded, InputFormatError, NoApprovedPolicy
from teamlens.privacy.testing import exact_mode

from .flow_support import Org, approve_policy, build_org, files_under, policy_text


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Org:
    built = build_org(tmp_path_factory.mktemp("org"))
    services.ingest(built.ws, [built.exports], actor="admin")
    return built


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


def _expected_department_means(org: Org, window: Window, column: str, bound: int) -> dict[str, float]:
    """Mean per person per week computed straight from the raw CSVs with pandas."""
    directory = pd.read_csv(org.synth.directory_csv, dtype=str, keep_default_na=False)
    start = window.start.isoformat()
    members = directory[
        (directory["Valid From"] <= start) & ((directory["Valid To"] == "") | (directory["Valid To"] > start))
    ]
    frames = []
    for report in org.synth.email_reports:
        frame = pd.read_csv(report, encoding="utf-8-sig")
        monday = dt.date.fromisoformat(frame["Report Refresh Date"].iloc[0]) - dt.timedelta(days=6)
        if monday in window.weeks:
            frames.append(frame[["User Principal Name", column]])
    activity = pd.concat(frames).groupby("User Principal Name")[column].sum()
    values = members["Email"].str.lower().map(activity).fillna(0).clip(upper=bound * window.n_weeks)
    per_department = values.groupby(members["Department"].to_numpy()).agg(["sum", "count"])
    return {name: row["sum"] / (row["count"] * window.n_weeks) for name, row in per_department.iterrows()}


def test_exact_release_equals_means_computed_from_the_raw_exports(org: Org) -> None:
    with exact_mode():
        table = services.release(
            org.ws, "department-monthly", ["2026-02"], metrics=["emails_sent"], actor="t"
        )
    expected = _expected_department_means(org, Window(Cadence.MONTH, "2026-02"), "Send Count", 100)
    released = {cell.group: cell.value for cell in table.cells if cell.metric == "emails_sent"}
    assert set(released) == set(expected)
    for department, mean in expected.items():
        assert released[department] == pytest.approx(mean, abs=1e-9)


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
    tmp_path: Path,
    damage,
    line: int,
    column: str | None,  # type: ignore[no-untyped-def]
) -> None:
    org = build_org(tmp_path, people=40, weeks=2)
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


def test_a_directory_export_without_people_is_refused_and_the_stored_directory_kept(tmp_path: Path) -> None:
    # A directory ingest replaces the stored directory, so an empty one would silently wipe it.
    org = build_org(tmp_path, people=40, weeks=2)
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
