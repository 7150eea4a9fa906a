"""Where the checkout is, and the read-only shared data beside it (``../shared``).

The shared folder lies next to the checkout on a developer's machine and under CI; a test that
needs a file from it calls ``shared_file``, which skips the test saying which file is missing and
why, instead of failing on a machine that has no copy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: The root of this checkout (the folder holding ``src/`` and ``tests/``).
ROOT = Path(__file__).resolve().parents[2]
#: The shared, read-only folder beside the checkout: data sets and the format references.
SHARED = ROOT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path inside the shared folder (which may not exist on this machine)."""
    return SHARED.joinpath(*parts)


def shared_file(*parts: str) -> Path:
    """A file or folder inside the shared folder, or skip the calling test saying why it cannot run."""
    path = shared_path(*parts)
    if not path.exists():
        pytest.skip(
            f"{path} is not on this machine: the shared data folder is expected beside the checkout "
            f"at {SHARED}, and this test reads that file"
        )
    return path


def _no_chromium() -> bool:
    from teamlens.services.documents import chromium_path

    return chromium_path() is None


#: Marks a test that prints a PDF with Chromium: skipped, saying so, where none is installed
#: (`make test` installs Debian's chromium when it runs as root).
needs_chromium = pytest.mark.skipif(
    _no_chromium(), reason="Chromium is not installed: PDF output needs it (`make test` installs it as root)"
)
