"""Joiners, leavers and moves: a valid directory history that the reports follow exactly."""

from __future__ import annotations

from datetime import timedelta

from .synth_support import Generated


def test_validity_ranges_are_well_formed_and_never_overlap(org2000: Generated) -> None:
    d = org2000.directory.sort_values(["Employee ID", "Valid From"])
    closed = d.loc[d["Valid To"] != ""]
    assert (closed["Valid To"] > closed["Valid From"]).all()
    for _, rows in d.groupby("Employee ID"):
        froms, tos = list(rows["Valid From"]), list(rows["Valid To"])
        assert all(to != "" for to in tos[:-1])  # only the last row may be open
        assert all(tos[i] <= froms[i + 1] for i in range(len(froms) - 1))


def test_a_person_is_in_a_weekly_report_iff_employed_that_week(org2000: Generated) -> None:
    for monday in org2000.email:
        employed = org2000.employed(monday)
        assert set(org2000.email[monday]["User Principal Name"]) == employed
        assert set(org2000.teams[monday]["User Principal Name"]) == employed
        assert org2000.email[monday]["User Principal Name"].is_unique


def test_leavers_disappear_and_joiners_appear_from_their_start_week(org2000: Generated) -> None:
    d = org2000.directory
    start, end = org2000.config.start, org2000.config.start + timedelta(weeks=org2000.config.weeks)
    last = d.sort_values("Valid From").groupby("Email").last()
    leavers = last.loc[(last["Valid To"] != "") & (last["Valid To"] < end.isoformat())]
    first = d.sort_values("Valid From").groupby("Email").first()
    joiners = first.loc[first["Valid From"] > start.isoformat()]
    # A few per cent per quarter over two quarters of 2,000 people.
    assert 30 <= len(leavers) <= 250
    assert 30 <= len(joiners) <= 250
    mondays = sorted(org2000.email)
    for email, row in leavers.head(20).iterrows():
        weeks_gone = [m for m in mondays if m.isoformat() >= row["Valid To"]]
        last_week = max(m for m in mondays if m.isoformat() < row["Valid To"])
        assert weeks_gone
        assert all(email not in set(org2000.email[m]["User Principal Name"]) for m in weeks_gone)
        assert email in set(org2000.email[last_week]["User Principal Name"])
    for email, row in joiners.head(20).iterrows():
        monday = next(m for m in mondays if m.isoformat() == row["Valid From"])
        before = monday - timedelta(weeks=1)
        assert email in set(org2000.email[monday]["User Principal Name"])
        if before in org2000.email:
            assert email not in set(org2000.email[before]["User Principal Name"])


def test_moves_between_teams_are_recorded_as_history(org2000: Generated) -> None:
    d = org2000.directory
    movers = d.groupby("Employee ID").filter(lambda rows: rows["Team"].nunique() > 1)
    moved = movers["Employee ID"].nunique()
    assert 20 <= moved <= 200  # a few per cent of 2,000 over half a year
    for _, rows in movers.groupby("Employee ID"):
        rows = rows.sort_values("Valid From")
        assert list(rows["Valid To"])[:-1] == list(rows["Valid From"])[1:]  # no gap at a move


def test_team_sizes_stay_between_3_and_40_every_week(org2000: Generated) -> None:
    d = org2000.directory
    for monday in sorted(org2000.email)[::5]:
        iso = monday.isoformat()
        current = d.loc[(d["Valid From"] <= iso) & ((d["Valid To"] == "") | (d["Valid To"] > iso))]
        sizes = current.groupby("Team").size()
        assert sizes.between(3, 40).all()
        assert len(sizes) == org2000.result.teams
