"""A12 — weak or predictable randomness, and the pseudonymisation key's whereabouts.

(a) No non-cryptographic sampler on the release path (the A10 scan). (b) Two installations with
identical input and key release different noise (OpenDP draws from the OS CSPRNG, never from a
seed an attacker could guess), while one installation asked twice answers identically (the
cache, A4). Teeth: a sampler seeded from a fixed or guessable value makes the two installations
agree, and the check fails. Two releases of one installation measure their blocks with
independent noise (the kept measurements minus the store's exact totals are uncorrelated entry
by entry); teeth: OpenDP's draws taken once and reused by the next release's block. (c) The
key is in no file of the data folder, no audit entry, no command output and no log line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from teamlens import services
from teamlens.cli import main
from teamlens.domain import Window
from teamlens.privacy import Strategy
from teamlens.privacy import noise as noise_module

from ..integration.flow_support import files_under
from .conftest import Installation, clone
from .service_checks import kept_residuals, reuse_correlation, reused_draws

REPORT, WINDOW = "team-quarterly", "2026-Q1"


def _numbers(installation: Installation) -> list[float | None]:
    table = services.release(installation.ws, REPORT, [WINDOW], actor="analyst")
    return [cell.value for cell in sorted(table.cells, key=lambda c: (c.group, c.metric))]


def fresh_noise_per_installation(pristine: Installation, root: Path) -> tuple[bool, bool]:
    """(two installations differ, one installation repeats itself)."""
    first, second = clone(pristine, root / "one"), clone(pristine, root / "two")
    a, b = _numbers(first), _numbers(second)
    return a != b, _numbers(first) == a


@pytest.mark.attack("A12")
def test_a12_identical_installations_draw_different_noise(pristine: Installation, tmp_path, measure) -> None:
    differ, repeat = fresh_noise_per_installation(pristine, tmp_path)
    measure(a12_installations_differ=differ, a12_repeat_identical=repeat)
    assert differ and repeat


def _seeded_sampler(totals: Sequence[int], sigma: float) -> list[int]:
    """The weakened sampler: a PRNG seeded with a constant (a clock at day resolution is as bad)."""
    rng = np.random.default_rng(20260101)
    return [int(t + round(rng.normal(0, sigma))) for t in totals]


@pytest.mark.attack("A12", teeth=True)
def test_a12_teeth_a_seeded_sampler_repeats_across_installations(
    pristine: Installation, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(noise_module, "add_discrete_gaussian", _seeded_sampler)
    differ, _ = fresh_noise_per_installation(pristine, tmp_path)
    assert not differ


def key_sightings(key_hex: str, files: Sequence[Path], texts: Sequence[str]) -> list[str]:
    """Where the key (hex, either case, or its raw bytes) appears."""
    raw = bytes.fromhex(key_hex)
    needles = [key_hex.lower().encode(), key_hex.upper().encode(), raw]
    hits = [str(path) for path in files if any(needle in path.read_bytes() for needle in needles)]
    hits += [f"text #{i}" for i, text in enumerate(texts) if key_hex.lower() in text.lower()]
    return hits


@pytest.mark.attack("A12")
def test_a12_the_key_is_in_no_file_log_or_output(fresh: Installation, capsys, caplog, measure) -> None:
    caplog.set_level(logging.DEBUG)
    key_hex = fresh.ws.settings.key_file.read_text().strip()
    data = str(fresh.ws.settings.data_dir)
    services.release(fresh.ws, "department-monthly", ["2026-01"], actor="analyst")
    for argv in (
        ["policy", "show", "--json", "--data-dir", data],
        ["audit", "show", "--json", "--data-dir", data],
        ["audit", "verify", "--data-dir", data],
        ["release", "department-monthly", "-w", "2026-01", "--json", "--data-dir", data],
    ):
        main(argv)
    out = capsys.readouterr()
    texts = [out.out, out.err, caplog.text, repr(fresh.ws.settings), repr(fresh.ws.pseudonymiser())]
    texts += [str(entry) for entry in fresh.ws.governance.audit_entries(limit=10_000)]
    hits = key_sightings(key_hex, files_under(fresh.ws.settings.data_dir), texts)
    measure(a12_key_sightings=len(hits))
    assert hits == []


@pytest.mark.attack("A12", teeth=True)
def test_a12_teeth_a_key_copied_into_the_data_folder_is_found(fresh: Installation) -> None:
    key_hex = fresh.ws.settings.key_file.read_text().strip()
    (fresh.ws.settings.data_dir / "backup.key").write_text(key_hex)
    assert key_sightings(key_hex, files_under(fresh.ws.settings.data_dir), []) != []


@pytest.mark.attack("A12")
def test_a12_no_predictable_generator_on_the_release_path() -> None:
    from .test_a10_floating_point import RELEASE_PATH, static_violations

    assert static_violations(RELEASE_PATH) == []


# Two blocks' noise paired entry by entry: ~240 pairs, so an honest correlation above 0.4 has
# probability < 10⁻⁸ (its SD is 1/√240 ≈ 0.065); noise drawn once and used twice gives 1.
REUSE = 0.4


def _two_releases_two_blocks(installation: Installation) -> float:
    """Departments for January, then for February (each release measures its own block)."""
    policy = installation.ws.governance.require_active_policy("test").policy
    for month in ("2026-01", "2026-02"):
        services.release(installation.ws, "department-monthly", [month], actor="analyst")
    strategy = Strategy.for_policy(policy)
    january, february = (strategy.block_of(Window.parse(m).start) for m in ("2026-01", "2026-02"))
    residuals = kept_residuals(installation.ws, policy, [january, february])
    return reuse_correlation(installation.ws, january, february, residuals)


@pytest.mark.attack("A12")
def test_a12_two_releases_measure_their_blocks_with_independent_noise(fresh: Installation, measure) -> None:
    correlation = _two_releases_two_blocks(fresh)
    measure(a12_noise_correlation_across_releases=correlation)
    assert abs(correlation) < REUSE


@pytest.mark.attack("A12", teeth=True)
def test_a12_teeth_noise_drawn_once_and_reused_by_the_next_release_is_caught(
    fresh: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenDP's draws at the right σ, but February's vectors reuse January's: caught by correlation."""
    monkeypatch.setattr(noise_module, "add_discrete_gaussian", reused_draws())
    assert _two_releases_two_blocks(fresh) >= REUSE
