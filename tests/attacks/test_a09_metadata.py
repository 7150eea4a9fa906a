"""A9 — inference from the metadata of reports rather than their values.

(a) Payloads for a team of k−1, k and k+1 members, and of k+1 after one objection, over 100 noise
draws: the same JSON schema every time and no headcount field. The headcount can still be read
off a released cell: its mean, its 95% interval and the published σ of the total and of the
headcount give back the *noisy* headcount and the *noisy* total exactly. That is post-processing
of the differentially private release, so the guarantee holds; the test checks that what comes
back is the noisy count, never the true one. Teeth: had the headcount been released without
noise, the same arithmetic gives back the true count.
(b) Latency of the web API for an installation whose team is suppressed (everyone objected) and
one where it is not: Welch's test p > 0.01, or a mean difference under 5 ms. (c) No error message
template in ``src/`` interpolates a person, pseudonym, address or group. Teeth: the template scan
catches a message naming a group and its size.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import time
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from teamlens import services
from teamlens.domain import AGGREGATE_SCHEMA, HEADCOUNT, Cadence, Window
from teamlens.domain import metric as metric_def
from teamlens.privacy import add_noise, assemble

from ..integration.flow_support import analyst_client
from .auditor import student_t_two_sided_p
from .conftest import Installation, clone, object_from_the_start
from .harness import directory, members_at, plan_for

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
    plan = plan_for(policy, "team-quarterly", ["2026-Q1"])
    schemas, integer_fields = set(), set()
    for _ in range(100):
        rows = []
        for group, size in SCENARIOS.items():
            rows.append((group, "2026-Q1", HEADCOUNT, size))
            rows += [
                (group, "2026-Q1", cell.metric, size * cell.bound // 3)
                for cell in plan.cells
                if cell.metric != HEADCOUNT
            ]
        table = pa.Table.from_arrays([pa.array(c) for c in zip(*rows, strict=True)], schema=AGGREGATE_SCHEMA)
        released = assemble(
            policy,
            plan.spec,
            add_noise(plan, table, sorted(SCENARIOS)),
            release_id="r",
            released_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
            rho_charged=plan.cost,
        )
        payload = services.tables_as_json(policy, [released])
        for cell in payload["reports"][0]["cells"]:
            schemas.add(frozenset(_schema(cell)))
        integer_fields |= {path for path, _ in _ints(payload)}
    measure(a9_cell_schemas=len(schemas), a9_integer_fields=sorted(integer_fields))
    assert len(schemas) == 1
    # The only integers anywhere are the policy's version and its public minimum group size.
    assert integer_fields <= {".policy.version", ".policy.min_group_size"}


#: True sizes of the groups whose headcount the attacker reads back from σ and the interval.
SIZES = {"A": 15, "B": 24, "C": 40, "D": 63}


def _noisy_release(policy, *, noised_headcount: bool = True):
    """A real noisy release of four groups; with ``noised_headcount`` False the true counts go out."""
    plan = plan_for(policy, "team-quarterly", ["2026-Q1"])
    rows = []
    for group, size in SIZES.items():
        rows.append((group, "2026-Q1", HEADCOUNT, size))
        rows += [
            (group, "2026-Q1", c.metric, size * c.bound // 3) for c in plan.cells if c.metric != HEADCOUNT
        ]
    table = pa.Table.from_arrays([pa.array(c) for c in zip(*rows, strict=True)], schema=AGGREGATE_SCHEMA)
    noisy = add_noise(plan, table, sorted(SIZES))
    if not noised_headcount:
        true_count = pa.array([SIZES[g] for g in noisy.column("group").to_pylist()], pa.int64())
        is_count = pa.compute.equal(noisy.column("metric"), HEADCOUNT)
        counts = pa.compute.if_else(is_count, true_count, noisy.column("noisy_total"))
        noisy = noisy.set_column(noisy.schema.get_field_index("noisy_total"), "noisy_total", counts)
    released = assemble(
        policy,
        plan.spec,
        noisy,
        release_id="r",
        released_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
        rho_charged=plan.cost,
    )
    counts = {row["group"]: row["noisy_total"] for row in noisy.to_pylist() if row["metric"] == HEADCOUNT}
    return released, counts


def headcounts_read_back(released) -> dict[str, float]:
    """Each group's headcount as an attacker solves it from a cell's mean, interval and the σs.

    The half-width is z·√(σ_T² + (m·σ_C)²) / (C · weeks · unit) with m the mean per person, so C
    follows from the other, published, numbers. Cells clipped at either end are passed over.
    """
    sigma = {(noise.metric, noise.window): noise.sigma_total for noise in released.noise}
    window = Window(Cadence.QUARTER, "2026-Q1")
    found: dict[str, float] = {}
    for cell in released.cells:
        if cell.value is None or cell.lower is None or cell.upper is None or cell.lower <= 0:
            continue
        per_window = window.n_weeks * metric_def(cell.metric).display_divisor
        if cell.upper * per_window >= 0.999 * next(
            n.bound for n in released.noise if n.metric == cell.metric
        ):
            continue
        half = (cell.upper - cell.lower) / 2
        mean = cell.value * per_window
        spread = math.hypot(sigma[(cell.metric, cell.window)], mean * sigma[(HEADCOUNT, cell.window)])
        found[cell.group] = spread / (half * per_window / NormalDist().inv_cdf(0.975))
    return found


@pytest.mark.attack("A9")
def test_a9_sigma_and_interval_give_back_only_the_noisy_headcount(policy, measure) -> None:
    exact, differs = 0, 0
    for _ in range(20):
        released, noisy_counts = _noisy_release(policy)
        for group, count in headcounts_read_back(released).items():
            assert round(count) == noisy_counts[group]  # exactly the noisy headcount comes back
            exact += 1
            differs += noisy_counts[group] != SIZES[group]
    measure(a9_headcounts_read_back=exact, a9_read_back_differing_from_true=differs)
    assert exact >= 40
    # The read-back count is the noisy one: most differ from the true size (σ is several people).
    assert differs >= exact // 2


@pytest.mark.attack("A9", teeth=True)
def test_a9_teeth_an_unnoised_headcount_comes_back_exactly(policy) -> None:
    released, _ = _noisy_release(policy, noised_headcount=False)
    found = headcounts_read_back(released)
    assert found and all(round(count) == SIZES[group] for group, count in found.items())


def _latencies(client: TestClient, count: int) -> list[float]:
    out = []
    for _ in range(count):
        start = time.perf_counter()
        assert client.get("/api/releases").status_code == 200
        out.append((time.perf_counter() - start) * 1000)
    return out


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
    for _ in range(4):  # interleave, so drift in machine load hits both alike
        a += _latencies(clients[0], count // 4)
        b += _latencies(clients[1], count // 4)
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
