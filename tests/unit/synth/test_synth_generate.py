"""generate(): reproducible from the seed, validated config, concealed mode, small runs fast."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from teamlens.synth import SynthConfig, generate

from .synth_support import Generated


def _all_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_config_gives_byte_identical_files(tmp_path: Path) -> None:
    config = SynthConfig(people=120, weeks=6, seed=11)
    generate(config, tmp_path / "a")
    generate(config, tmp_path / "b")
    first, second = _all_bytes(tmp_path / "a"), _all_bytes(tmp_path / "b")
    assert len(first) == 2 * 6 + 2
    assert first == second


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    generate(SynthConfig(people=120, weeks=3, seed=11), tmp_path / "a")
    generate(SynthConfig(people=120, weeks=3, seed=12), tmp_path / "b")
    first, second = _all_bytes(tmp_path / "a"), _all_bytes(tmp_path / "b")
    assert first.keys() == second.keys()
    assert all(first[name] != second[name] for name in first if name != "README.txt")


def test_longer_run_keeps_the_earlier_weeks_identical(tmp_path: Path) -> None:
    short = generate(SynthConfig(people=120, weeks=2, seed=3), tmp_path / "short")
    long = generate(SynthConfig(people=120, weeks=4, seed=3), tmp_path / "long")
    # Weeks have their own streams; the timeline only differs from week 2 on.
    assert short.email_reports[0].read_bytes() == long.email_reports[0].read_bytes()


def test_rerun_into_the_same_folder_removes_reports_of_the_earlier_run(tmp_path: Path) -> None:
    generate(SynthConfig(people=50, weeks=5), tmp_path)
    result = generate(SynthConfig(people=50, weeks=2), tmp_path)
    assert sorted((tmp_path / "m365").iterdir()) == sorted(result.email_reports + result.teams_reports)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start": date(2026, 1, 6)}, "must be a Monday"),
        ({"people": 5}, "people must be at least"),
        ({"weeks": 0}, "weeks must be at least 1"),
        ({"seed": -1}, "seed must be a non-negative"),
        ({"domain": "Example,Org"}, "domain must be"),
        ({"daily": True}, "daily reports are not generated"),
    ],
)
def test_invalid_config_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SynthConfig(**changes)  # type: ignore[arg-type]


def test_concealed_reports_contain_no_address_or_name(concealed: Generated) -> None:
    emails = set(concealed.directory["Email"])
    names = set(concealed.directory["Display Name"])
    for path in concealed.result.email_reports + concealed.result.teams_reports:
        text = path.read_text(encoding="utf-8-sig")
        assert "@" not in text
        assert not any(name in text for name in names)
    assert len(emails) >= 300


def test_concealed_ids_are_32_hex_and_stable_per_person(concealed: Generated) -> None:
    first, last = concealed.email[min(concealed.email)], concealed.email[max(concealed.email)]
    for column in ("User Principal Name", "Display Name"):
        assert first[column].map(lambda v: bool(re.fullmatch(r"[0-9A-F]{32}", v))).all()
        assert first[column].is_unique
    teams_first = concealed.teams[min(concealed.teams)]
    # The same person keeps the same concealed id: the Teams User Id (a GUID) pairs them up.
    by_guid = dict(zip(teams_first["User Id"], teams_first["User Principal Name"], strict=True))
    teams_last = concealed.teams[max(concealed.teams)]
    common = [g for g in teams_last["User Id"] if g in by_guid]
    assert len(common) > 250
    later = dict(zip(teams_last["User Id"], teams_last["User Principal Name"], strict=True))
    assert all(by_guid[g] == later[g] for g in common)
    assert set(first["User Principal Name"]) & set(last["User Principal Name"])
    # And the concealed ids of one tenant are unrelated to the plain organisation with the same seed.
    assert not set(first["User Principal Name"]) & set(first["Display Name"])


def test_result_counts_match_the_files(org2000: Generated) -> None:
    d = org2000.directory
    result = org2000.result
    assert result.people == d["Employee ID"].nunique() == d["Email"].nunique()
    assert result.teams == d["Team"].nunique()
    assert result.departments == d["Department"].nunique()
    assert result.divisions == d["Division"].nunique()
    assert len(result.email_reports) == len(result.teams_reports) == org2000.config.weeks
