"""The hierarchy and the directory's history are internally consistent and realistic in size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from teamlens.synth.config import Stream, rng
from teamlens.synth.organisation import build_organisation, team_sizes

from .synth_support import Generated


def _at_start(org: Generated) -> pd.DataFrame:
    d = org.directory
    start = org.config.start.isoformat()
    return d.loc[(d["Valid From"] <= start) & ((d["Valid To"] == "") | (d["Valid To"] > start))]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("people", [10, 11, 50, 997, 2000])
def test_team_sizes_are_within_3_to_40_and_sum_to_the_headcount(seed: int, people: int) -> None:
    sizes = team_sizes(rng(seed, Stream.ORGANISATION), people)
    assert sum(sizes) == people
    assert min(sizes) >= 3
    assert max(sizes) <= 40


@pytest.mark.parametrize("seed", range(5))
def test_departments_are_roughly_40_to_150_people(seed: int) -> None:
    org = build_organisation(seed, 2000, 2000)
    dept_size = np.bincount(org.team_department[org.start_team], minlength=len(org.department_names))
    assert dept_size.min() >= 40
    assert dept_size.max() <= 200
    assert 60 <= np.median(dept_size) <= 120
    assert 18 <= len(org.department_names) <= 32
    assert len(org.division_names) == 6


def test_team_size_mix_has_small_typical_and_large_teams(org2000: Generated) -> None:
    sizes = _at_start(org2000).groupby("Team").size()
    assert sizes.between(3, 40).all()
    assert (sizes <= 4).sum() >= 3  # small groups exist, so suppression shows
    assert sizes.between(5, 15).mean() > 0.6
    assert (sizes >= 20).sum() >= 5


def test_every_team_sits_in_one_department_and_division(org2000: Generated) -> None:
    d = org2000.directory
    assert (d.groupby("Team")["Department"].nunique() == 1).all()
    assert (d.groupby("Department")["Division"].nunique() == 1).all()
    assert d["Team"].nunique() == org2000.result.teams
    assert 20 <= org2000.result.departments <= 30
    assert org2000.result.divisions == 6


def test_names_are_unique_across_levels(org2000: Generated) -> None:
    d = org2000.directory
    assert d.groupby("Team")["Department"].first().index.is_unique
    assert not set(d["Team"]) & set(d["Department"])
    assert d.groupby("Email")["Employee ID"].nunique().max() == 1
    assert d.groupby("Employee ID")["Email"].nunique().max() == 1
    assert d["Email"].str.fullmatch(r"[a-z]+\.[a-z]+\d*@example\.org").all()


def test_every_team_has_one_manager_from_within(org2000: Generated) -> None:
    start = _at_start(org2000)
    by_email = start.set_index("Email")
    managers_of_team = start.groupby("Team")["Manager Email"].agg(lambda s: s.value_counts().index[0])
    for team, manager in managers_of_team.items():
        assert by_email.loc[manager, "Team"] == team
    # Reporting lines form one tree: exactly one person reports to no one, no one to themselves.
    assert (start["Manager Email"] == "").sum() == 1
    assert (start["Manager Email"] != start["Email"]).all()
    assert set(start["Manager Email"]) - {""} <= set(start["Email"])


def test_locations_are_a_handful_of_cities_with_teams_mostly_together(org2000: Generated) -> None:
    start = _at_start(org2000)
    assert 4 <= start["Location"].nunique() <= 8
    share_at_main = start.groupby("Team")["Location"].agg(lambda s: s.value_counts().iloc[0] / len(s))
    assert share_at_main.mean() > 0.75
