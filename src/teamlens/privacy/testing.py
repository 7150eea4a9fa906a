"""Exact answers for tests: an infinite privacy budget that only a pytest run can switch on.

``with exact_mode(): ...`` makes ``plan_release`` plan every cell with σ = 0 and cost 0, and
``add_noise`` add no noise, so a test can compare released means with values computed by hand.
Nothing else can switch it on: no policy field, setting, environment variable or argument
reaches this flag, and entering it outside a pytest process is refused.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from teamlens.errors import InternalError

# A ContextVar rather than a module global so that one test's exact mode cannot leak into a
# concurrently running thread or task that did not ask for it.
_EXACT: ContextVar[bool] = ContextVar("teamlens_privacy_exact_mode", default=False)


@contextmanager
def exact_mode() -> Iterator[None]:
    """Release without noise and without cost inside this block; refused outside pytest.

    Raises ``InternalError`` when the ``pytest`` module is not loaded: an exact release in
    production would publish true totals, so reaching this from anything but a test is a bug.
    """
    if "pytest" not in sys.modules:
        raise InternalError("exact (noise-free) mode was requested outside the test suite")
    token = _EXACT.set(True)
    try:
        yield
    finally:
        _EXACT.reset(token)


def exact_mode_active() -> bool:
    """Tell whether the current context is inside ``exact_mode()``."""
    return _EXACT.get()
