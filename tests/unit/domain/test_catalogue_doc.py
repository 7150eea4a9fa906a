"""docs/catalogue.md is generated from the catalogue's definitions and must match them.

Regenerate with `TEAMLENS_UPDATE_DOCS=1 .venv/bin/python -m pytest tests/unit/domain/test_catalogue_doc.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

from teamlens.domain.metrics import METRICS, Question, Unit
from teamlens.services.catalogue_doc import catalogue_markdown

DOC = Path(__file__).resolve().parents[3] / "docs" / "catalogue.md"


def test_catalogue_doc_is_generated_from_the_definitions() -> None:
    expected = catalogue_markdown()
    if os.environ.get("TEAMLENS_UPDATE_DOCS"):
        DOC.write_text(expected, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == expected, "regenerate docs/catalogue.md (see this module)"


def test_every_metric_is_in_the_doc_under_its_question() -> None:
    text = catalogue_markdown()
    for name, definition in METRICS.items():
        heading = text.index(f"## {definition.question.value.capitalize()}")
        following = [text.find(f"## {q.value.capitalize()}", heading + 1) for q in Question]
        end = min([at for at in following if at > heading], default=len(text))
        assert f"(`{name}`)" in text[heading:end], name


def test_every_metric_states_its_sources_bound_and_question() -> None:
    for definition in METRICS.values():
        assert definition.sources, definition.name
        assert definition.weekly_bound >= 1, definition.name
        assert isinstance(definition.question, Question)
        if definition.unit is Unit.SHARE:
            assert definition.weekly_bound <= 1000, definition.name  # a share never exceeds 1
    assert {definition.question for definition in METRICS.values()} == set(Question)
