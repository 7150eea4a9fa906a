"""The starting organisation: divisions → departments → teams → people, with their traits.

Team sizes follow what HR systems of mid-sized firms show: most teams of 5–15, some of 16–40, a
few of 3–4 (so that small-group suppression has something to suppress). Departments gather teams
into groups of roughly 40–150 people, the size at which monthly figures stay useful under
user-level differential privacy; divisions gather departments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from teamlens.synth import _words
from teamlens.synth.config import CHUNK, Stream, chunks, rng

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
TextArray = npt.NDArray[np.object_]  # Python str objects

MIN_TEAM = 3
MAX_TEAM = 40
_DEPT_MIN, _DEPT_MODE, _DEPT_MAX = 40, 60, 130
_PART_TIME_SHARE = 0.10


@dataclass(frozen=True)
class Organisation:
    """The hierarchy and every person's fixed traits, as parallel arrays indexed by person.

    ``capacity`` people are described (the starting headcount plus room for joiners); who is
    employed when is decided by ``teamlens.synth.workforce``.
    """

    division_names: tuple[str, ...]
    department_names: tuple[str, ...]
    department_division: IntArray
    department_meeting_factor: FloatArray
    team_names: tuple[str, ...]
    team_department: IntArray
    team_manager: IntArray
    team_email_factor: FloatArray
    team_chat_factor: FloatArray
    team_home: IntArray  # index into _words.LOCATIONS
    start_team: IntArray  # -1 for people who join later
    is_manager: BoolArray
    fte: FloatArray
    email_propensity: FloatArray
    receive_propensity: FloatArray
    meeting_propensity: FloatArray
    chat_propensity: FloatArray
    call_propensity: FloatArray
    camera_rate: FloatArray
    read_rate: FloatArray

    @property
    def capacity(self) -> int:
        """How many people (starting and future joiners) have traits."""
        return len(self.fte)

    @property
    def teams(self) -> int:
        """How many teams there are (teams neither open nor close during the period)."""
        return len(self.team_names)


def team_sizes(rng: np.random.Generator, people: int) -> list[int]:
    """Sizes of teams summing to ``people``, each within [MIN_TEAM, MAX_TEAM]."""
    sizes: list[int] = []
    total = 0
    while total < people:
        kind = rng.random()
        if kind < 0.07:
            size = int(rng.integers(3, 5))
        elif kind < 0.80:
            size = int(rng.integers(5, 16))
        elif kind < 0.95:
            size = int(rng.integers(16, 26))
        else:
            size = int(rng.integers(26, MAX_TEAM + 1))
        sizes.append(size)
        total += size
    sizes[-1] -= total - people
    if sizes[-1] < MIN_TEAM:
        # Too few left for a team of their own: spread them over teams that still have room.
        leftover = sizes.pop()
        for i in range(leftover):
            room = [j for j, size in enumerate(sizes) if size < MAX_TEAM]
            sizes[room[i % len(room)]] += 1
    return sizes


def _group_teams(rng: np.random.Generator, sizes: list[int]) -> list[list[int]]:
    """Cut the (already shuffled) teams into departments of roughly 40–150 people."""
    departments: list[list[int]] = []
    current: list[int] = []
    headcount = 0
    target = rng.triangular(_DEPT_MIN, _DEPT_MODE, _DEPT_MAX)
    for team, size in enumerate(sizes):
        current.append(team)
        headcount += size
        if headcount >= target:
            departments.append(current)
            current, headcount = [], 0
            target = rng.triangular(_DEPT_MIN, _DEPT_MODE, _DEPT_MAX)
    if current:
        if departments and headcount < _DEPT_MIN:
            departments[-1].extend(current)
        else:
            departments.append(current)
    return departments


def _unique_names(
    rng: np.random.Generator, count: int, first: tuple[str, ...], second: tuple[str, ...]
) -> list[str]:
    """``count`` distinct "first second" names in random order, numbered once combinations run out."""
    combos = [f"{a} {b}" for a in first for b in second]
    order = rng.permutation(len(combos))
    names = [combos[i] for i in order[:count]]
    round_ = 2
    while len(names) < count:
        names.extend(f"{combos[i]} {round_}" for i in order[: count - len(names)])
        round_ += 1
    return names


def _name_departments(
    rng: np.random.Generator, division_kinds: list[str], department_division: list[int]
) -> list[str]:
    """A function name from the department's division, qualified when that function is taken."""
    used: set[str] = set()
    names: list[str] = []
    for division in department_division:
        functions = _words.DIVISIONS[division_kinds[division]]
        candidates = [f for f in functions if f not in used]
        if candidates:
            name = candidates[int(rng.integers(len(candidates)))]
        else:
            qualified = [f"{q} {f}" for q in _words.DEPARTMENT_QUALIFIERS for f in functions]
            free = [n for n in qualified if n not in used]
            name = free[int(rng.integers(len(free)))] if free else f"{functions[0]} {len(names) + 1}"
        used.add(name)
        names.append(name)
    return names


def _name_divisions(rng: np.random.Generator, count: int) -> tuple[list[str], list[str]]:
    """Distinct division names and the word-list kind of each; regions distinguish repeats."""
    base = list(_words.DIVISIONS)
    order = [base[i] for i in rng.permutation(len(base))]
    kinds = [order[i % len(order)] for i in range(count)]
    regions = ("Europe", "Americas", "Asia Pacific", "International", "Group")
    names = [
        kind if i < len(order) else f"{kind} {regions[(i // len(order) - 1) % len(regions)]}"
        for i, kind in enumerate(kinds)
    ]
    return names, kinds


def _lognormal(rng: np.random.Generator, sigma: float, size: int) -> FloatArray:
    """Lognormal factors with mean one, so sigma changes the spread and not the level."""
    return rng.lognormal(-sigma * sigma / 2, sigma, size)


def _person_traits(seed: int, count: int) -> dict[str, FloatArray]:
    """Per-person propensities for ``count`` people, block by block (see ``config.CHUNK``)."""
    blocks: list[dict[str, FloatArray]] = []
    for chunk in chunks(count):
        draw = rng(seed, Stream.TRAITS, chunk)
        # A shared "engagement" term makes heavy e-mailers somewhat heavier in meetings and chat too.
        engagement = np.exp(draw.normal(0.0, 0.35, CHUNK))
        email = engagement * _lognormal(draw, 0.7, CHUNK)
        blocks.append(
            {
                "part_time": draw.random(CHUNK),
                "fte": draw.choice([0.5, 0.6, 0.8], size=CHUNK, p=[0.3, 0.3, 0.4]),
                "email": email,
                "receive": email**0.6 * _lognormal(draw, 0.3, CHUNK),
                "meeting": engagement * _lognormal(draw, 0.6, CHUNK),
                "chat": engagement * _lognormal(draw, 0.9, CHUNK),
                "call": _lognormal(draw, 0.8, CHUNK),
                "camera": draw.beta(2.0, 3.0, CHUNK),
                "read": draw.beta(8.0, 3.0, CHUNK),
            }
        )
    return {key: np.concatenate([block[key] for block in blocks])[:count] for key in blocks[0]}


def build_organisation(seed: int, people: int, capacity: int) -> Organisation:
    """Draw the hierarchy for ``people`` starting employees and traits for ``capacity`` people."""
    draw = rng(seed, Stream.ORGANISATION)
    sizes = team_sizes(draw, people)
    sizes = [sizes[i] for i in draw.permutation(len(sizes))]
    dept_teams = _group_teams(draw, sizes)
    n_depts = len(dept_teams)
    n_divs = max(1, min(n_depts, round(math.sqrt(people / 55))))
    # Each division gets one department, the rest go where they fall, so divisions vary in size.
    department_division = list(range(n_divs)) + [int(d) for d in draw.integers(0, n_divs, n_depts - n_divs)]
    department_division.sort()
    division_names, division_kinds = _name_divisions(draw, n_divs)
    department_names = _name_departments(draw, division_kinds, department_division)

    team_department = np.empty(len(sizes), dtype=np.int64)
    for dept, teams in enumerate(dept_teams):
        team_department[teams] = dept
    # Shuffle who is in which team so that person order (employee ids, report rows) says nothing.
    members = draw.permutation(people)
    start_team = np.full(capacity, -1, dtype=np.int64)
    start_team[members] = np.repeat(np.arange(len(sizes)), sizes)
    first_member = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    team_manager = members[first_member + draw.integers(0, np.asarray(sizes))]
    is_manager = np.zeros(capacity, dtype=np.bool_)
    is_manager[team_manager] = True

    weights = np.array([w for _, _, w in _words.LOCATIONS])
    team_home = draw.choice(len(weights), size=len(sizes), p=weights / weights.sum())
    traits = _person_traits(seed, capacity)
    part_time = (traits["part_time"] < _PART_TIME_SHARE) & ~is_manager
    meeting_heavy = draw.random(n_depts) < 0.25
    return Organisation(
        division_names=tuple(division_names),
        department_names=tuple(department_names),
        department_division=np.asarray(department_division, dtype=np.int64),
        department_meeting_factor=np.where(meeting_heavy, 1.7, 1.0) * _lognormal(draw, 0.15, n_depts),
        team_names=tuple(_unique_names(draw, len(sizes), _words.TEAM_TOPICS, _words.TEAM_KINDS)),
        team_department=team_department,
        team_manager=team_manager.astype(np.int64),
        team_email_factor=_lognormal(draw, 0.3, len(sizes)),
        team_chat_factor=_lognormal(draw, 0.5, len(sizes)),
        team_home=team_home.astype(np.int64),
        start_team=start_team,
        is_manager=is_manager,
        fte=np.where(part_time, traits["fte"], 1.0),
        email_propensity=traits["email"],
        receive_propensity=traits["receive"],
        meeting_propensity=traits["meeting"],
        chat_propensity=traits["chat"],
        call_propensity=traits["call"],
        camera_rate=traits["camera"],
        read_rate=traits["read"],
    )
