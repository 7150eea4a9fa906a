"""The generated files match the vendors' formats byte for byte where a format is fixed."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from teamlens.synth import DIRECTORY_HEADER, EMAIL_HEADER, TEAMS_HEADER

from ...support.paths import shared_file
from .synth_support import Generated

_DURATION = re.compile(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?")


@pytest.mark.parametrize(
    ("header", "file"),
    [
        (EMAIL_HEADER, "m365_email_activity_user_detail_header.csv"),
        (TEAMS_HEADER, "m365_teams_user_activity_user_detail_header.csv"),
    ],
)
def test_header_constants_equal_the_shared_vendor_headers(header: str, file: str) -> None:
    path = shared_file("data", "formats", file)
    assert header == path.read_text(encoding="utf-8").strip("\ufeff\r\n")


def test_teams_header_has_the_33_documented_columns() -> None:
    assert len(TEAMS_HEADER.split(",")) == 33
    assert len(EMAIL_HEADER.split(",")) == 13


def test_reports_start_with_bom_and_the_header_and_use_crlf(org2000: Generated) -> None:
    for paths, header in (
        (org2000.result.email_reports, EMAIL_HEADER),
        (org2000.result.teams_reports, TEAMS_HEADER),
    ):
        raw = paths[0].read_bytes()
        assert raw.startswith(("\ufeff" + header + "\r\n").encode("utf-8"))
        assert raw.count(b"\n") == raw.count(b"\r\n")
        assert b'"' not in raw


def test_report_files_are_named_and_dated_by_the_sunday_ending_each_week(org2000: Generated) -> None:
    sundays = [org2000.config.start + timedelta(weeks=w, days=6) for w in range(org2000.config.weeks)]
    assert [p.name for p in org2000.result.email_reports] == [
        f"EmailActivityUserDetail_{s.isoformat()}.csv" for s in sundays
    ]
    assert [p.name for p in org2000.result.teams_reports] == [
        f"TeamsUserActivityUserDetail_{s.isoformat()}.csv" for s in sundays
    ]
    for monday, sunday in zip(org2000.email, sundays, strict=True):
        for frame in (org2000.email[monday], org2000.teams[monday]):
            assert set(frame["Report Refresh Date"]) == {sunday.isoformat()}
            assert set(frame["Report Period"]) == {7}
            assert set(frame["Is Deleted"]) == {False}
            assert set(frame["Deleted Date"]) == {""}


def test_last_activity_date_is_never_after_the_refresh_date(org2000: Generated) -> None:
    for frames in (org2000.email, org2000.teams):
        for index, frame in enumerate(frames.values()):
            dated = frame.loc[frame["Last Activity Date"] != ""]
            assert (dated["Last Activity Date"] <= dated["Report Refresh Date"]).all()
            if index >= 2:  # after the Christmas shutdown nearly everyone has been active once
                assert len(dated) > 0.9 * len(frame)


def test_durations_are_iso_8601_and_agree_with_their_seconds(org2000: Generated) -> None:
    frame = org2000.teams[org2000.config.start]
    for text_column in ("Audio Duration", "Video Duration", "Screen Share Duration"):
        for text, seconds in zip(frame[text_column], frame[f"{text_column} In Seconds"], strict=True):
            match = _DURATION.fullmatch(text)
            assert match, text
            h, m, s = (int(part or 0) for part in match.groups())
            assert h * 3600 + m * 60 + s == seconds
            assert m < 60
            assert s < 60
            assert (text == "PT0S") == (seconds == 0)


def test_teams_identity_columns(org2000: Generated) -> None:
    frame = org2000.teams[org2000.config.start]
    assert set(frame["Tenant Display Name"]) == {"Example Org"}
    assert set(frame["Shared Channel Tenant Display Names"]) == {""}
    guid = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert frame["User Id"].str.fullmatch(guid).all()
    assert frame["User Id"].is_unique
    assert set(frame["Has Other Action"]) == {"Yes", "No"}
    assert set(frame["Is Licensed"]) == {"Yes"}


def test_user_id_is_stable_per_person_across_weeks(org2000: Generated) -> None:
    first, last = org2000.teams[org2000.config.start], org2000.teams[max(org2000.teams)]
    ids = dict(zip(first["User Principal Name"], first["User Id"], strict=True))
    later = dict(zip(last["User Principal Name"], last["User Id"], strict=True))
    common = ids.keys() & later.keys()
    assert len(common) > 1800
    assert all(ids[upn] == later[upn] for upn in common)


def test_directory_header_and_dates(org2000: Generated) -> None:
    raw = org2000.result.directory_csv.read_text(encoding="utf-8")
    assert raw.split("\n", 1)[0] == ",".join(DIRECTORY_HEADER)
    d = org2000.directory
    for column in ("Valid From", "Valid To"):
        values = d.loc[d[column] != "", column]
        assert values.map(lambda v: bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v))).all()
    for column in ("Working Hours Start", "Working Hours End"):
        assert d[column].str.fullmatch(r"([01]\d|2[0-3]):[0-5]\d").all()
    assert set(d["Time Zone"]) <= {
        "Europe/London",
        "Europe/Berlin",
        "Europe/Dublin",
        "America/New_York",
        "Asia/Singapore",
    }
    changes = d.loc[d["Valid From"] >= org2000.config.start.isoformat(), "Valid From"]
    assert {date.fromisoformat(v).weekday() for v in changes} == {0}


def test_readme_says_the_data_is_synthetic(org2000: Generated) -> None:
    text = (org2000.result.directory_csv.parent.parent / "README.txt").read_text(encoding="utf-8")
    assert text.startswith("SYNTHETIC DATA")
    assert f"seed {org2000.config.seed}" in text
    assert "@" not in text
