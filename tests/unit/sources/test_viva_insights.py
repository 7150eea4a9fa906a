"""Viva Insights person query: weekly facts and directory rows checked against pandas on the real sample."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamlens.domain import DIRECTORY_READ_SCHEMA, FACT_SCHEMA, METRICS
from teamlens.errors import InputFormatError
from teamlens.sources import ReadContext
from teamlens.sources.viva_insights import IDENTITY_NOTE, VIVA_DIRECTORY, VIVA_METRICS, VIVA_PERSON_QUERY

from ...support.fuzzing import examples
from .sources_testkit import pseudonymiser, read_all

vivainsights = pytest.importorskip(
    "vivainsights",
    reason="the vivainsights package (dev extra) ships the real Viva Insights sample these tests read",
)

#: Metric → (column, minutes?) as this test reads the sample, written out independently of the reader.
EXPECTED_COLUMNS = {
    "collaboration_minutes": ("Collaboration_hours", True),
    "meeting_minutes": ("Meeting_and_call_hours", True),
    "after_hours_minutes": ("After_hours_collaboration_hours", True),
    "email_minutes": ("Email_hours", True),
    "chat_minutes": ("Chat_hours", True),
    "meetings_attended": ("Meetings", False),
    "emails_sent": ("Emails_sent", False),
    "emails_read": ("Emails_read", False),
    "calls": ("Calls", False),
    "network_size": ("Internal_network_size", False),
}
#: The columns an older or narrower query lacks, by the metric they would give.
NEWER_COLUMNS = {
    "email_minutes": "Email_hours",
    "chat_minutes": "Chat_hours",
    "network_size": "Internal_network_size",
}
VIVA_METRIC_NAMES = frozenset(EXPECTED_COLUMNS) | {"chat_messages"}


def ctx(
    metrics: frozenset[str] = VIVA_METRIC_NAMES,
    excluded: frozenset[str] = frozenset(),
    batch_rows: int = 4096,
) -> ReadContext:
    return ReadContext(
        pseudonymise=pseudonymiser(), metrics=metrics, excluded_persons=excluded, batch_rows=batch_rows
    )


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return vivainsights.load_pq_data()


@pytest.fixture(scope="module")
def sample_csv(sample: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("viva") / "person_query.csv"
    sample.to_csv(path, index=False)
    return path


Facts = dict[tuple[str, dt.date, str], int]


def expected_facts(frame: pd.DataFrame, columns: dict[str, tuple[str, bool]]) -> Facts:
    pseud = pseudonymiser()
    monday = (pd.to_datetime(frame["MetricDate"]) + pd.Timedelta(days=1)).dt.date
    people = frame["PersonId"].map(lambda person: pseud("viva:" + person))
    out: Facts = {}
    for metric, (column, minutes) in columns.items():
        values = (frame[column] * (60 if minutes else 1) + 0.5).apply(int)  # floor of non-negatives
        for who, day, value in zip(people, monday, values, strict=True):
            if value:
                out[(who, day, metric)] = value
    return out


def as_dict(table: object) -> Facts:
    return {(r["person"], r["day"], r["metric"]): r["value"] for r in table.to_pylist()}  # type: ignore[attr-defined]


def test_the_real_sample_gives_the_weekly_sums_pandas_computes(
    sample: pd.DataFrame, sample_csv: Path
) -> None:
    table, report, batches = read_all(VIVA_PERSON_QUERY, sample_csv, ctx(batch_rows=1000))
    assert table.schema == FACT_SCHEMA
    assert as_dict(table) == expected_facts(sample, EXPECTED_COLUMNS)
    assert set(table.column("days").to_pylist()) == {7}
    assert {day.weekday() for day in table.column("day").to_pylist()} == {0}
    assert set(table.column("source").to_pylist()) == {"viva_insights_person_query"}
    assert (report.rows_read, report.rows_kept, report.people_seen) == (10_500, 10_500, 300)
    assert batches >= 11
    assert IDENTITY_NOTE in report.notes
    assert not any("ignored" in note for note in report.notes)
    # The sample has no Chats_sent: the policy's chat_messages is named as not counted.
    lacking = [note for note in report.notes if "no column for" in note]
    assert lacking == [
        "the person query has no column for chat_messages (Chats_sent): these metrics were not "
        "counted from it; add the metric to the person query in Viva Insights to count it"
    ]
    assert not set(sample["PersonId"]) & set(table.column("person").to_pylist())


def test_email_chat_and_network_size_round_half_up_per_week(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        "PersonId,MetricDate,Email_hours,Chat_hours,Internal_network_size,Organization\n"
        "p1,2024-03-31,1.25,0.0125,41.5,Sales\n"  # 75 min; 0.75 min rounds up to 1; 42 people
        "p1,2024-04-07,,0.008,12,Sales\n"  # empty is zero; 0.48 min rounds down to nothing
        "p2,2024-03-31,10,2.5,0,HR\n"
    )
    table, report, _ = read_all(VIVA_PERSON_QUERY, path, ctx())
    pseud = pseudonymiser()
    p1, p2 = pseud("viva:p1"), pseud("viva:p2")
    first, second = dt.date(2024, 4, 1), dt.date(2024, 4, 8)
    assert as_dict(table) == {
        (p1, first, "email_minutes"): 75,
        (p1, first, "chat_minutes"): 1,
        (p1, first, "network_size"): 42,
        (p1, second, "network_size"): 12,
        (p2, first, "email_minutes"): 600,
        (p2, first, "chat_minutes"): 150,
    }
    assert set(table.column("days").to_pylist()) == {7}
    assert not any("email_minutes" in note or "network_size" in note for note in report.notes)


def test_workplace_analytics_instant_message_hours_give_chat_minutes(
    sample: pd.DataFrame, tmp_path: Path
) -> None:
    frame = sample.head(350).rename(columns={"Chat_hours": "Instant_Message_hours"})
    path = tmp_path / "wpa.csv"
    frame.to_csv(path, index=False)
    table, report, _ = read_all(VIVA_PERSON_QUERY, path, ctx(metrics=frozenset({"chat_minutes"})))
    assert as_dict(table) == expected_facts(frame, {"chat_minutes": ("Instant_Message_hours", True)})
    assert table.num_rows > 300
    assert not any("no column for" in note for note in report.notes)


def test_a_query_without_the_newer_columns_reads_and_names_what_the_policy_misses(
    sample: pd.DataFrame, tmp_path: Path
) -> None:
    frame = sample.head(700).drop(columns=list(NEWER_COLUMNS.values()))
    path = tmp_path / "older.csv"
    frame.to_csv(path, index=False)
    older = {k: v for k, v in EXPECTED_COLUMNS.items() if k not in NEWER_COLUMNS}
    table, report, _ = read_all(VIVA_PERSON_QUERY, path, ctx(metrics=frozenset(older)))
    assert as_dict(table) == expected_facts(frame, older)
    assert not any("no column for" in note for note in report.notes)
    for metric, column in NEWER_COLUMNS.items():
        table, report, _ = read_all(VIVA_PERSON_QUERY, path, ctx(metrics=frozenset(older) | {metric}))
        assert as_dict(table) == expected_facts(frame, older)
        assert any(f"no column for {metric} ({column}" in note for note in report.notes)


def test_us_dates_and_meeting_hours_alone_read_the_same(sample: pd.DataFrame, tmp_path: Path) -> None:
    frame = sample.head(700).drop(columns=["Meeting_and_call_hours"]).copy()
    dates = pd.to_datetime(frame["MetricDate"])
    frame["MetricDate"] = [f"{d.month}/{d.day}/{d.year}" for d in dates]
    path = tmp_path / "us.csv"
    frame.to_csv(path, index=False)
    table, _, _ = read_all(VIVA_PERSON_QUERY, path, ctx())
    columns = {**EXPECTED_COLUMNS, "meeting_minutes": ("Meeting_hours", True)}
    frame["MetricDate"] = dates.dt.strftime("%Y-%m-%d")
    assert as_dict(table) == expected_facts(frame, columns)


def test_weeks_starting_on_monday_map_to_themselves(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("PersonId,MetricDate,Emails_sent\np1,2024-04-01,3\np2,2024-04-08,4.5\n")
    table, _, _ = read_all(VIVA_PERSON_QUERY, path, ctx())
    assert sorted(zip(table.column("day").to_pylist(), table.column("value").to_pylist(), strict=True)) == [
        (dt.date(2024, 4, 1), 3),
        (dt.date(2024, 4, 8), 5),
    ]


@pytest.mark.parametrize(
    ("body", "line", "field", "needle"),
    [
        ("p1,2024-04-02,3\n", 2, "MetricDate", "does not start a week"),
        ("p1,2024-03-31,3\np2,2024-04-01,3\n", 3, "MetricDate", "different weekdays"),
        ("p1,2024-03-31,3\np2,31/03/2024,3\n", 3, "MetricDate", "not a date"),
        ("p1,2024-03-31,3\np2,2024-03-31,-1\n", 3, "Emails_sent", "not a count"),
        ("p1,2024-03-31,3\np2,2024-03-31,lots\n", 3, "Emails_sent", "not a count"),
        ("p1,2024-03-31,nan\n", 2, "Emails_sent", "not a count"),
        (",2024-03-31,3\n", 2, "PersonId", "empty"),
    ],
)
def test_bad_cells_name_line_and_column(
    tmp_path: Path, body: str, line: int, field: str, needle: str
) -> None:
    path = tmp_path / "q.csv"
    path.write_text("PersonId,MetricDate,Emails_sent\n" + body)
    with pytest.raises(InputFormatError) as caught:
        read_all(VIVA_PERSON_QUERY, path, ctx())
    assert (caught.value.line, caught.value.field) == (line, field)
    assert needle in str(caught.value)
    assert "p1" not in str(caught.value)
    assert "p2" not in str(caught.value)


def test_only_the_policys_metrics_are_read(sample_csv: Path) -> None:
    table, _, _ = read_all(VIVA_PERSON_QUERY, sample_csv, ctx(metrics=frozenset({"emails_sent"})))
    assert set(table.column("metric").to_pylist()) == {"emails_sent"}
    _, report, batches = read_all(VIVA_PERSON_QUERY, sample_csv, ctx(metrics=frozenset({"focus_blocks"})))
    assert batches == 0
    assert any("nothing was kept" in note for note in report.notes)


def test_excluded_pseudonyms_are_dropped(sample: pd.DataFrame, sample_csv: Path) -> None:
    gone = sorted(set(sample["PersonId"]))[:5]
    pseud = pseudonymiser()
    excluded = frozenset(pseud("viva:" + person) for person in gone)
    table, report, _ = read_all(VIVA_PERSON_QUERY, sample_csv, ctx(excluded=excluded))
    assert not excluded & set(table.column("person").to_pylist())
    assert (report.people_seen, report.rows_kept) == (295, 10_500 - 5 * 35)
    directory, _, _ = read_all(VIVA_DIRECTORY, sample_csv, ctx(excluded=excluded))
    assert directory.num_rows == 295


def test_directory_rows_equal_each_persons_organisation_and_weeks(
    sample: pd.DataFrame, sample_csv: Path
) -> None:
    table, report, _ = read_all(VIVA_DIRECTORY, sample_csv, ctx(batch_rows=128))
    assert table.schema == DIRECTORY_READ_SCHEMA
    pseud = pseudonymiser()
    weeks = sample.assign(day=pd.to_datetime(sample["MetricDate"]).dt.date).groupby("PersonId")
    expected = {
        pseud("viva:" + person): (
            group["day"].min() + dt.timedelta(days=1),
            group["day"].max() + dt.timedelta(days=8),
            group["Organization"].iloc[0],
        )
        for person, group in weeks
    }
    got = {r["person"]: (r["valid_from"], r["valid_to"], r["team"]) for r in table.to_pylist()}
    assert got == expected
    assert table.column("department").to_pylist() == table.column("team").to_pylist()
    assert set(table.column("aliases").to_pylist()) == {None}
    assert report.people_seen == 300
    assert IDENTITY_NOTE in report.notes


def test_a_change_of_organisation_splits_the_range(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        "PersonId,MetricDate,Organization\n"
        "p1,2024-03-31,Sales\np1,2024-04-14,Sales\np1,2024-04-07,Sales\n"
        "p1,2024-04-28,Legal\np1,2024-04-28,Legal\np2,2024-04-07,\n"
    )
    table, _, _ = read_all(VIVA_DIRECTORY, path, ctx())
    pseud = pseudonymiser()
    rows = sorted(
        (r["person"] == pseud("viva:p1"), r["valid_from"], r["valid_to"], r["team"])
        for r in table.to_pylist()
    )
    assert rows == [
        (False, dt.date(2024, 4, 8), dt.date(2024, 4, 15), None),
        (True, dt.date(2024, 4, 1), dt.date(2024, 4, 22), "Sales"),
        (True, dt.date(2024, 4, 29), dt.date(2024, 5, 6), "Legal"),
    ]


def test_two_organisations_in_one_week_are_refused_naming_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        "PersonId,MetricDate,Organization\np1,2024-03-31,Sales\np2,2024-03-31,HR\np1,2024-03-31,Legal\n"
    )
    with pytest.raises(InputFormatError) as caught:
        read_all(VIVA_DIRECTORY, path, ctx())
    assert (caught.value.line, caught.value.field) == (4, "Organization")
    assert "line 2" in str(caught.value)
    assert "Sales" not in str(caught.value)


def test_sniff_needs_the_person_query_columns(sample_csv: Path, tmp_path: Path) -> None:
    assert VIVA_PERSON_QUERY.sniff(sample_csv)
    assert VIVA_DIRECTORY.sniff(sample_csv)
    other = tmp_path / "other.csv"
    other.write_text("PersonId,MetricDate,Emails_sent\n")
    assert VIVA_PERSON_QUERY.sniff(other)
    assert not VIVA_DIRECTORY.sniff(other)
    assert not VIVA_PERSON_QUERY.sniff(tmp_path / "missing.csv")


def test_canary_ids_and_values_never_leave_the_readers(tmp_path: Path) -> None:
    canary = "zq-51c0ffee-viva"
    path = tmp_path / "q.csv"
    path.write_text(f"PersonId,MetricDate,Emails_sent,Organization\n{canary},2024-03-31,987654321,Sales\n")
    table, report, _ = read_all(VIVA_PERSON_QUERY, path, ctx())
    directory, directory_report, _ = read_all(VIVA_DIRECTORY, path, ctx())
    visible = str(table.to_pylist()) + str(report) + str(directory.to_pylist()) + str(directory_report)
    assert "51c0ffee" not in visible
    path.write_text(
        f"PersonId,MetricDate,Emails_sent\n{canary},2024-03-31,987654321\n{canary},2024-04-01,x\n"
    )
    with pytest.raises(InputFormatError) as caught:
        read_all(VIVA_PERSON_QUERY, path, ctx())
    assert "51c0ffee" not in str(caught.value)
    assert "987654321" not in str(caught.value)


def test_every_metric_mapped_is_in_the_catalogue() -> None:
    assert {rule.metric for rule in VIVA_METRICS} == VIVA_METRIC_NAMES
    assert METRICS.keys() >= VIVA_METRIC_NAMES


SEED = (
    "PersonId,MetricDate,Collaboration_hours,Meetings,Organization\n"
    'a1,2024-03-31,12.5,3,Sales\n"a,2",3/31/2024,0.25,,HR\n'
)
SPICE = st.sampled_from(['"', ",", "\n", "\x00", "-1", "nan", "1e400", "/", "", "é"])
counter = itertools.count()


@pytest.mark.parametrize("reader", [VIVA_PERSON_QUERY, VIVA_DIRECTORY], ids=lambda r: r.name)
def test_the_fuzz_seed_reads_cleanly(tmp_path: Path, reader: object) -> None:
    path = tmp_path / "seed.csv"
    path.write_text(SEED)
    table, _, _ = read_all(reader, path, ctx())  # type: ignore[arg-type]
    assert table.num_rows >= 2


@pytest.mark.parametrize("reader", [VIVA_PERSON_QUERY, VIVA_DIRECTORY], ids=lambda r: r.name)
@settings(max_examples=examples(200), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 3), SPICE), max_size=6),
    noise=st.binary(max_size=40),
)
def test_garbled_queries_raise_only_input_format_errors(
    tmp_path: Path, reader: object, edits: list[tuple[int, int, str]], noise: bytes
) -> None:
    text = SEED
    for at, removed, inserted in edits:
        at %= len(text) + 1
        text = text[:at] + inserted + text[at + removed :]
    path = tmp_path / f"f{next(counter)}.csv"
    path.write_bytes(text.encode() + noise)
    message = ""
    try:
        read_all(reader, path, ctx(batch_rows=1))  # type: ignore[arg-type]
    except InputFormatError as error:
        message = str(error)
    assert "a1" not in message.replace(str(tmp_path), "")
