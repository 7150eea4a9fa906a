"""The example notebook (docs/examples/released-reports.ipynb) runs against a released organisation.

Its code cells are run in order, in one namespace, as a kernel would (no Jupyter needed), with
``TEAMLENS_DATA_DIR`` pointing at a small released organisation: they must load the releases
through ``teamlens.open`` and draw the chart, one line per group, from figures worth reading only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ..integration.flow_support import Org

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "examples" / "released-reports.ipynb"

pytest.importorskip("pandas", reason="the notebook reads the releases as pandas DataFrames")
matplotlib = pytest.importorskip("matplotlib", reason="the notebook plots with matplotlib")


def code_cells() -> list[str]:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    for cell in notebook["cells"]:
        assert {"cell_type", "metadata", "source", "id"} <= set(cell)
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None  # committed without outputs
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_the_notebook_loads_the_releases_and_plots_them(
    released_org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    matplotlib.use("Agg")  # no display here
    import matplotlib.pyplot as plt

    monkeypatch.setenv("TEAMLENS_DATA_DIR", str(released_org.ws.settings.data_dir))
    namespace: dict[str, Any] = {"__name__": "__notebook__"}
    for source in code_cells():
        exec(compile(source, str(NOTEBOOK), "exec"), namespace)  # noqa: S102  (our own notebook)
    try:
        cells, shown, axes = namespace["cells"], namespace["shown"], namespace["axes"]
        assert len(cells) > 0 and set(cells["report_id"]) == {"department-monthly", "team-quarterly"}
        assert not shown["suppressed"].any() and not shown["uncertain"].any()
        lines = axes.get_lines()
        assert len(lines) == shown["group"].nunique() > 0
        plotted = sorted(float(y) for line in lines for y in line.get_ydata() if y == y)  # NaN: a gap
        assert plotted == sorted(shown["value"].astype(float))
    finally:
        plt.close("all")
