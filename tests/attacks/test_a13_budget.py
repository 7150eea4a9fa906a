"""A13 — privacy-budget accounting pitfalls, through the service.

(a) colluding analysts share one ledger, and a release the ledger cannot pay is refused whole;
(b) at every step Σ release charges == ledger total ≤ ρ; (c) one worker with 10⁶ e-mails a week
moves their department's weekly totals in a clipping block by a vector of L2 norm at most the
block's bound (per_week·√weeks, what the noise is calibrated to), and a true (noise-free)
released total by at most per_week × weeks; (d) a person is in one group per
window — an HR export placing someone in two teams at once is refused; (e) later windows of the
same period, and new versions of the policy, do not reset the ledger. Teeth: with the ledger's
charge not seen (budget not charged), the over-budget release goes through.
"""

from __future__ import annotations

import contextlib
import math
import random
import re
import shutil
from pathlib import Path

import pytest

from teamlens import services
from teamlens.domain import Cadence, GroupLevel, Rho, Window
from teamlens.errors import BudgetExceeded, InputFormatError, ReleaseError
from teamlens.governance import GovernanceDB
from teamlens.privacy import Strategy

from ..integration.flow_support import approve_policy, policy_text, signer
from ..support.exact import exact_mode
from .conftest import Installation, install
from .harness import directory, edit_export, members_at, with_reports
from .replicas import store_truth, sub_strategy


def _policy(ws):
    return ws.governance.require_active_policy("attack").policy


def _spent(ws) -> Rho:
    policy = _policy(ws)
    return ws.governance.spent(policy.policy_id, policy.period_start, policy.period_end)


def _tighten(ws, tmp_path: Path, divisor: int) -> None:
    """Approve a new version of the same policy and period whose ρ is the old ρ / ``divisor``."""
    policy = _policy(ws)
    text = policy_text(**{f"version = {policy.version}": f"version = {policy.version + 1}"})
    text = re.sub(r'^rho = "[^"]+"', f'rho = "{policy.rho.value / divisor}"', text, flags=re.M)
    approve_policy(ws, text, tmp_path / f"v{policy.version + 1}.toml")


def overspend_refused(ws, tmp_path: Path) -> bool:
    """Two analysts spend; the budget shrinks below what was spent; is a third release refused whole?"""
    services.release(ws, "department-monthly", ["2026-01"], actor="analyst-a")
    services.release(ws, "team-quarterly", ["2026-Q1"], actor="analyst-b")
    _tighten(ws, tmp_path, divisor=50)
    before = (len(ws.governance.releases()), _spent(ws))
    try:
        services.release(ws, "department-monthly", ["2026-05"], actor="analyst-b")
    except BudgetExceeded:
        return (len(ws.governance.releases()), _spent(ws)) == before
    return False


@pytest.mark.attack("A13")
def test_a13_colluding_analysts_share_one_ledger_and_overspending_is_refused(
    fresh: Installation, tmp_path, measure
) -> None:
    ws = fresh.ws
    a = services.release(ws, "department-monthly", ["2026-03"], actor="analyst-a")
    b = services.release(ws, "department-monthly", ["2026-02"], actor="analyst-b")
    assert float(_spent(ws).value) == pytest.approx(a.rho_charged + b.rho_charged)
    assert {info.released_by for info in ws.governance.releases()} == {"analyst-a", "analyst-b"}
    refused = overspend_refused(ws, tmp_path)
    measure(a13_overspend_refused=refused)
    assert refused


@pytest.mark.attack("A13", teeth=True)
def test_a13_teeth_a_ledger_that_is_not_charged_lets_the_overspend_through(
    fresh: Installation, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from teamlens.governance import ledger

    monkeypatch.setattr(
        GovernanceDB, "spent", lambda self, policy_id, period_start, period_end=None: Rho.zero()
    )
    monkeypatch.setattr(ledger, "spent", lambda conn, policy_id, period_start, period_end=None: Rho.zero())
    assert not overspend_refused(fresh.ws, tmp_path)


@pytest.mark.attack("A13")
def test_a13_ledger_equals_the_sum_of_charges_and_never_exceeds_rho(
    fresh: Installation, tmp_path, measure
) -> None:
    ws, rng = fresh.ws, random.Random(13)
    policy = _policy(ws)
    steps = 0
    for step in range(30):
        if step == 20:
            _tighten(ws, tmp_path, divisor=3)  # the cap now binds: later requests must be refused
        report = rng.choice(policy.reports)
        windows = [w.key for w in policy.windows(report.cadence)]
        chosen = rng.sample(windows, rng.randint(1, min(3, len(windows))))
        metrics = rng.sample(list(report.metrics), rng.randint(1, len(report.metrics)))
        with contextlib.suppress(BudgetExceeded):
            services.release(ws, report.report_id, chosen, metrics=metrics, actor=f"analyst-{step % 3}")
        charges = sum((info.rho.value for info in ws.governance.releases()), start=Rho.zero().value)
        total = _policy(ws).rho.value
        assert _spent(ws).value == charges
        assert charges <= max(total, policy.rho.value)
        steps += 1
    measure(a13_ledger_steps=steps, a13_final_spent=float(_spent(ws).value))


def _department_total(installation: Installation, email: str) -> tuple[str, float, dict]:
    """The worker's department, its released true total of emails_sent in 2026-01, and its weekly totals."""
    window = Window(Cadence.MONTH, "2026-01")
    departments = members_at(directory(installation.org.synth.directory_csv), window.start, "Department")
    department = next(name for name, people in departments.items() if email.lower() in people)
    with exact_mode():
        table = services.release(
            installation.ws, "department-monthly", ["2026-01"], metrics=["emails_sent"], actor="t"
        )
        strategy = sub_strategy(
            _policy(installation.ws), metrics=["emails_sent"], levels=[GroupLevel.DEPARTMENT]
        )
        weekly = store_truth(installation.ws, strategy, strategy.blocks_for([window]))
    cell = next(c for c in table.cells if c.group == department and c.metric == "emails_sent")
    assert cell.total is not None
    return department, cell.total, weekly


@pytest.mark.attack("A13")
def test_a13_one_worker_with_a_million_emails_moves_a_true_total_by_at_most_the_bound(
    small_exports: Path, tmp_path, policy, measure
) -> None:
    exports = tmp_path / "exports"
    shutil.copytree(small_exports, exports)
    base = install(tmp_path / "base", exports)
    email = members_at(
        directory(base.org.synth.directory_csv), Window(Cadence.MONTH, "2026-01").start, "Department"
    )
    worker = sorted(email.values(), key=len)[-1][0]
    department, before, weekly_before = _department_total(base, worker)
    for report in base.org.synth.email_reports:
        edit_export(report, worker, "Send Count", "1000000")
    heavy = install(tmp_path / "heavy", exports)
    _, after, weekly_after = _department_total(heavy, worker)
    window = Window(Cadence.MONTH, "2026-01")
    per_week = policy.metric_bound("emails_sent").per_week
    scale = Strategy.for_policy(policy).metric_plan(GroupLevel.DEPARTMENT, "emails_sent").scale
    moved = [
        weekly_after.get(key, 0) - weekly_before.get(key, 0)
        for key in {*weekly_after, *weekly_before}
        if key[1] == department and key[3] == "emails_sent"
    ]
    norm = math.sqrt(sum(delta * delta for delta in moved)) / scale
    measure(a13_clip_change=after - before, a13_clip_bound=per_week * window.n_weeks, a13_l2_moved=norm)
    assert norm <= per_week * math.sqrt(window.n_weeks) + 1e-9
    assert 0 < after - before <= per_week * window.n_weeks + 1e-6


@pytest.mark.attack("A13")
def test_a13_a_person_placed_in_two_teams_at_once_is_refused(small_exports: Path, tmp_path) -> None:
    exports = tmp_path / "exports"
    shutil.copytree(small_exports, exports)
    path = exports / "hr" / "directory.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header, first = lines[0], lines[1]
    columns = header.rstrip("\r\n").split(",")
    values = first.rstrip("\r\n").split(",")
    values[columns.index("Team")] = "A Second Team"
    path.write_text("".join([*lines, ",".join(values) + "\n"]), encoding="utf-8")
    with pytest.raises(InputFormatError, match="overlaps"):
        install(tmp_path / "two", exports)


@pytest.mark.attack("A13")
def test_a13_later_windows_and_new_versions_do_not_reset_the_ledger(fresh: Installation, tmp_path) -> None:
    ws = fresh.ws
    first = services.release(ws, "department-monthly", ["2026-01"], actor="a")
    second = services.release(ws, "department-monthly", ["2026-02"], actor="a")
    assert float(_spent(ws).value) == pytest.approx(first.rho_charged + second.rho_charged)
    _tighten(ws, tmp_path, divisor=1)  # a new version of the same policy and period
    assert float(_spent(ws).value) == pytest.approx(first.rho_charged + second.rho_charged)
    again = services.release(ws, "department-monthly", ["2026-01"], actor="b")
    assert again.rho_charged == 0


@pytest.mark.attack("A13")
def test_a13_a_new_policy_over_the_same_weeks_does_not_get_a_fresh_budget(
    fresh: Installation, tmp_path
) -> None:
    ws = fresh.ws
    first = services.release(ws, "department-monthly", ["2026-01"], actor="a")
    old = _policy(ws)
    services.suspend(ws, old.policy_id, by=signer(ws, "representative"), actor="rep")
    renamed = policy_text(**{f'id = "{old.policy_id}"': f'id = "{old.policy_id}-bis"'})
    approve_policy(ws, renamed, tmp_path / "bis.toml")
    again = services.release(ws, "department-monthly", ["2026-01"], actor="a")
    # The same people's same weeks: either the cached numbers come back, or the earlier charge counts.
    assert again.cells == first.cells or float(_spent(ws).value) >= first.rho_charged + again.rho_charged
    assert float(_spent(ws).value) >= first.rho_charged


ORG_MONTHLY = """
[[reports]]
id = "organisation-monthly"
title = "The organisation, month by month"
level = "organisation"
cadence = "month"
metrics = ["emails_sent"]
budget_share = "0.2"
"""


@pytest.mark.attack("A13")
def test_a13_a_new_version_with_another_level_is_charged_for_it_on_blocks_already_measured(
    fresh: Installation, tmp_path
) -> None:
    ws = fresh.ws
    first = services.release(ws, "department-monthly", ["2026-01"], actor="a")
    version = _policy(ws).version
    approve_policy(
        ws, with_reports(policy_text(), version + 1, ORG_MONTHLY, {"0.65": "0.45"}), tmp_path / "v2.toml"
    )
    try:
        again = services.release(ws, "organisation-monthly", ["2026-01"], actor="a")
    except ReleaseError as refused:  # refusing clearly is acceptable too
        message = str(refused)
    else:
        assert again.rho_charged > 0  # the organisation's vectors were never measured or paid for
        assert float(_spent(ws).value) == pytest.approx(first.rho_charged + again.rho_charged)
        return
    assert "organisation" in message and "2026-01" in message
    # The block the earlier version measured still serves the levels it measured, and the blocks
    # measured now are measured (and charged) under the new version.
    team = services.release(ws, "team-quarterly", ["2026-Q1"], actor="a")
    assert team.cells and team.rho_charged > 0
    assert float(_spent(ws).value) == pytest.approx(first.rho_charged + team.rho_charged)
