"""A9 — inference from the metadata of reports rather than their values.

(a) Payloads for a team of k−1, k and k+1 members, and of k+1 after one objection, over 100 noise
draws: the same JSON schema every time, and no integer anywhere but the policy's version and its
public minimum group size. A shown cell does carry the noisy person-weeks its mean is divided by
(so that anyone can recompute the interval): that is a noisy headcount, post-processing of a DP
measurement (attack A6 checks it is never the true count); what the schema check rules out is a
shown or suppressed cell whose shape or integer fields tell one size from another.
(b) Latency of the web API for an installation whose team is suppressed (everyone objected) and
one where it is not: Welch's test p > 0.01, or a mean difference under 5 ms. (c) No error message
template in ``src/`` interpolates a person, pseudonym, address or group. Teeth: the template scan
catches a message naming a group and its size.
"""

from __future__ import annotations

import ast
import math
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from teamlens import services
from teamlens.domain import HEADCOUNT, Cadence, GroupLevel, Window
from teamlens.privacy import ReleaseSpec

from ..integration.flow_support import analyst_client
from .auditor import student_t_two_sided_p
from .conftest import Installation, clone, object_from_the_start
from .harness import directory, members_at
from .replicas import Unit, replicate, sub_strategy

SRC = Path(__file__).resolve().parents[2] / "src" / "teamlens"
SCENARIOS = {"k-1": 9, "k": 10, "k+1": 11, "k+1 with one objection": 10}


def _schema(value: object, path: str = "") -> set[str]:
    if isinstance(value, dict):
        return {f"{path}.{key}" for key in value} | {
            s for k, v in value.items() for s in _schema(v, f"{path}.{k}")
        }
    if isinstance(value, list):
        return {s for item in value for s in _schema(item, f"{path}[]")}
    kind = "number" if isinstance(value, float) or value is None else type(value).__name__
    return {f"{path}:{kind}"}


def _ints(value: object, path: str = "") -> list[tuple[str, int]]:
    if isinstance(value, dict):
        return [i for k, v in value.items() for i in _ints(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [i for item in value for i in _ints(item, f"{path}[]")]
    return [(path, value)] if isinstance(value, int) and not isinstance(value, bool) else []


@pytest.mark.attack("A9")
def test_a9_payloads_look_the_same_at_k_minus_1_k_k_plus_1_and_after_an_objection(policy, measure) -> None:
    strategy = sub_strategy(policy, levels=[GroupLevel.TEAM])
    spec = ReleaseSpec.build(policy, "team-quarterly", ["2026-Q1"])
    blocks = strategy.blocks_for(spec.windows)
    truth: dict = {}
    for group, size in SCENARIOS.items():
        truth[("team", group, blocks[0].start, HEADCOUNT)] = size * blocks[0].n_weeks
        for plan in strategy.metric_plans:
            for block in blocks:
                for week in block.weeks:
                    truth[("team", group, week, plan.metric)] = size * plan.scale * plan.per_week // 3
    table = replicate(strategy, blocks, Unit({GroupLevel.TEAM: tuple(SCENARIOS)}), truth, 100).table(spec)
    payload = services.tables_as_json(policy, [table])
    schemas = {frozenset(_schema(cell)) for cell in payload["reports"][0]["cells"]}
    integer_fields = {path for path, _ in _ints(payload)}
    measure(a9_cell_schemas=len(schemas), a9_integer_fields=sorted(integer_fields))
    assert len(schemas) == 1
    # The only integers anywhere are the policy's version and its public minimum group size.
    assert integer_fields <= {".policy.version", ".policy.min_group_size"}


def _latencies(client: TestClient, count: int) -> list[float]:
    out = []
    for _ in range(count):
        start = time.perf_counter()
        assert client.get("/api/releases").status_code == 200
        out.append((time.perf_counter() - start) * 1000)
    return out


def _trimmed(latencies: list[float], share: float = 0.1) -> list[float]:
    """The latencies without the fastest and slowest ``share`` of them."""
    cut = int(len(latencies) * share)
    return sorted(latencies)[cut : len(latencies) - cut]


@pytest.mark.attack("A9")
def test_a9_web_latency_does_not_tell_a_suppressed_team(
    pristine: Installation, tmp_path, large, measure
) -> None:
    normal, emptied = clone(pristine, tmp_path / "normal"), clone(pristine, tmp_path / "emptied")
    teams = members_at(
        directory(pristine.org.synth.directory_csv), Window(Cadence.QUARTER, "2026-Q1").start, "Team"
    )
    team = max(teams, key=lambda name: len(teams[name]))
    for email in teams[team]:
        object_from_the_start(emptied, email)
    for installation in (normal, emptied):
        services.release(installation.ws, "team-quarterly", ["2026-Q1"], actor="analyst")
    clients = [analyst_client(normal.ws), analyst_client(emptied.ws)]
    _latencies(clients[0], 5), _latencies(clients[1], 5)  # warm up
    count = 1_000 if large else 80
    a, b = [], []
    for _ in range(count):  # alternate request by request, so drift in machine load hits both alike
        a += _latencies(clients[0], 1)
        b += _latencies(clients[1], 1)
    # A busy machine stalls a few requests for tens of milliseconds whichever installation they
    # ask: compare the middle 80% of each, where a difference in the work done would show.
    a, b = _trimmed(a), _trimmed(b)
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    t = (np.mean(a) - np.mean(b)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    p = student_t_two_sided_p(float(t), float(df))
    difference = float(np.mean(a) - np.mean(b))
    measure(a9_latency_p=p, a9_latency_difference_ms=difference, a9_latency_requests=count)
    assert p > 0.01 or abs(difference) < 5.0


IDENTIFYING = {
    "group",
    "person",
    "pseudonym",
    "upn",
    "email",
    "address",
    "identifier",
    "member",
    "members",
    "team",
    "manager",
    "display_name",
    "user",
    "user_id",
    "employee",
    "headcount",
}


def identifying_messages(paths: list[Path]) -> list[str]:
    """Error constructors whose f-string message interpolates something identifying."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            if not (name.endswith(("Error", "Exceeded", "Denied", "Failure")) or name == "NoApprovedPolicy"):
                continue
            for arg in [*node.args, *(kw.value for kw in node.keywords)]:
                for part in ast.walk(arg):
                    if isinstance(part, ast.FormattedValue) and not _position(part.value):
                        used = {n.id for n in ast.walk(part.value) if isinstance(n, ast.Name)}
                        used |= {n.attr for n in ast.walk(part.value) if isinstance(n, ast.Attribute)}
                        if used & IDENTIFYING:
                            found.append(
                                f"{path.relative_to(path.parents[2])}:{node.lineno}: "
                                f"{sorted(used & IDENTIFYING)}"
                            )
    return found


#: Attributes that say where in a file a record is (``user.where`` is "record 12"), not who.
POSITIONS = {"where", "line", "lineno", "index", "position", "record"}


def _position(expression: ast.expr) -> bool:
    return isinstance(expression, ast.Attribute) and expression.attr in POSITIONS


@pytest.mark.attack("A9")
def test_a9_no_error_template_names_a_person_or_group(measure) -> None:
    paths = sorted(SRC.rglob("*.py"))
    found = identifying_messages(paths)
    measure(a9_identifying_error_templates=found)
    assert found == []


@pytest.mark.attack("A9", teeth=True)
def test_a9_teeth_the_template_scan_catches_a_message_naming_a_group(tmp_path: Path) -> None:
    bad = tmp_path / "pkg" / "sub" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text('def f(group, count):\n    raise ReleaseError(f"team {group} has only {count} people")\n')
    assert identifying_messages([bad]) != []
