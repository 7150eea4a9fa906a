"""The audit commands a representative uses: keygen, checkpoint, verify against a held checkpoint (A17)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from teamlens.errors import ConfigError
from teamlens.services import audit_checkpoints

from .flow_support import Org, build_org
from .flow_support import run_cli as run


@pytest.fixture
def org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Org:
    built = build_org(tmp_path, people=60, weeks=2)
    monkeypatch.setenv("TEAMLENS_DATA_DIR", str(built.ws.settings.data_dir))
    monkeypatch.setenv("COLUMNS", "200")
    return built


def test_a_representative_detects_a_truncated_log_with_a_held_checkpoint(
    org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys, held = tmp_path / "keys", tmp_path / "rep" / "checkpoint.json"
    assert run(capsys, "audit", "keygen", "--out", str(keys))[0] == 0
    private = keys / audit_checkpoints.KEY_NAME
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    with pytest.raises(ConfigError, match="already exists"):
        audit_checkpoints.keygen(keys)
    code, out = run(capsys, "audit", "checkpoint", "--key", str(private), "--out", str(held))
    assert code == 0
    assert "Checkpoint of entry" in out
    pub = keys / audit_checkpoints.PUBLIC_NAME
    code, out = run(capsys, "audit", "verify", "--checkpoint", str(held), "--public-key", str(pub))
    assert code == 0
    assert "match the checkpoint" in out
    # The operator cuts off the newest entries and moves the head back.
    engine = sa.create_engine(org.ws.settings.governance_url)
    with engine.begin() as conn:
        last = conn.execute(sa.text("SELECT max(seq) FROM audit_log")).scalar_one()
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq >= :s"), {"s": last - 2})
        seq, digest = conn.execute(sa.text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).one()
        conn.execute(sa.text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": seq, "h": digest})
    engine.dispose()
    assert run(capsys, "audit", "verify")[0] == 0  # the chain alone looks fine
    code, out = run(capsys, "audit", "verify", "--checkpoint", str(held))
    assert code == 8, out
    assert "were removed" in out
