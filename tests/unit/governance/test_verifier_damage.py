"""The stand-alone verifier names each kind of damage to an exported log, even with the chain rebuilt.

Someone who rewrites a log can recompute every hash, so the chain alone proves nothing about what
an entry says: each case below damages one entry of an honest export, rebuilds the chain around
it, and expects the verifier to say which entry is wrong and why. The file reader and the command
are held to the same: a line that is not JSON, or a file that cannot be read, is named.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from teamlens.governance import GovernanceDB
from teamlens.verify import verify_entries
from teamlens.verify.__main__ import main
from teamlens.verify.exported_log import read_export

from .helpers import activate
from .test_verifier import exported, rechain, rep_fingerprint

Entry = dict[str, Any]


def _approval(entries: list[Entry]) -> Entry:
    return next(e for e in entries if e["action"] == "policy.approve")


def _registration(entries: list[Entry]) -> Entry:
    return next(e for e in entries if e["action"] == "keys.register")


def _unsigned(entries: list[Entry]) -> None:
    del _approval(entries)["details"]["signed"]


def _malformed_signature(entries: list[Entry]) -> None:
    _approval(entries)["details"]["signed"]["signature"] = "a signature"


def _other_action(entries: list[Entry]) -> None:
    _approval(entries)["action"] = "policy.activate"


def _other_version(entries: list[Entry]) -> None:
    _approval(entries)["details"]["version"] = 7


def _no_key_set(entries: list[Entry]) -> None:
    _registration(entries)["details"]["signed"] = {"statement": "keys"}


def _no_key_signatures(entries: list[Entry]) -> None:
    _registration(entries)["details"]["signed"]["signatures"] = None


def _actor_not_text(entries: list[Entry]) -> None:
    entries[1]["actor"] = 42


DAMAGES: dict[str, tuple[Callable[[list[Entry]], None], str]] = {
    "unsigned decision": (_unsigned, "records a party's decision without its signature"),
    "malformed signature": (_malformed_signature, "its signature record is malformed"),
    "signature for another action": (_other_action, "its signature is for 'policy.approve'"),
    "bound field changed": (_other_version, "its version is not the version that was signed"),
    "no signed key set": (_no_key_set, "the key registration carries no signed key set"),
    "no key signatures": (_no_key_signatures, "the key registration carries no signatures"),
    "actor not text": (_actor_not_text, "entry 2 is malformed"),
}


@pytest.fixture
def honest(tmp_path: Path, clock: Any, template: str) -> list[Entry]:
    """An honest export (the verifier reads files: one database engine is enough)."""
    with GovernanceDB(f"sqlite:///{tmp_path}/governance.sqlite", clock=clock) as db:
        activate(db, template)
        entries = exported(db)
    assert verify_entries(entries, [rep_fingerprint()]).ok
    return entries


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_each_damage_is_named_even_with_the_chain_rebuilt(honest: list[Entry], damage: str) -> None:
    change, message = DAMAGES[damage]
    entries = copy.deepcopy(honest)
    change(entries)
    report = verify_entries(rechain(entries), [rep_fingerprint()])
    assert not report.ok
    assert any(message in problem for problem in report.problems), report.problems


def test_a_missing_sequence_number_stops_the_check(honest: list[Entry]) -> None:
    entries = copy.deepcopy(honest)
    del entries[2]["seq"]
    report = verify_entries(entries)
    assert report.problems == ["entry 3 is missing or malformed"]
    assert report.entries == 2


def test_the_reader_skips_blank_lines_and_names_a_bad_line() -> None:
    assert list(read_export(['{"seq": 1}', "", "  "])) == [{"seq": 1}]
    with pytest.raises(ValueError, match="line 2 is not JSON"):
        list(read_export(['{"seq": 1}', "{not json"]))
    with pytest.raises(ValueError, match="line 1 is not an audit entry"):
        list(read_export(["[1, 2]"]))


def test_the_command_names_a_file_it_cannot_read_and_warns_without_a_trusted_key(
    honest: list[Entry], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "absent.jsonl"
    assert main([str(missing)]) == 1
    assert f"{missing}: cannot read the log" in capsys.readouterr().err
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text("{oops\n", encoding="utf-8")
    assert main([str(garbled)]) == 1
    assert "line 1 is not JSON" in capsys.readouterr().err
    from teamlens.verify import canonical_json

    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(canonical_json(e) for e in honest) + "\n", encoding="utf-8")
    assert main([str(log)]) == 0
    out = capsys.readouterr().out
    assert "warning: no --trust fingerprint given" in out
    assert "key in force: representative" in out
