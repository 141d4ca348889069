"""The app's events without a browser: lookup downloads are temporary and never named by the query.

Integration: the real index of ../shared (extractive mode, so no LLM is loaded).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from base.settings import AnswerSettings, Settings
from rag.answer.pipeline import Pipeline
from ui.actions import KEEP_EXPORTS, Actions

pytestmark = pytest.mark.integration


def test_lookup_downloads_are_few_private_and_not_named_after_the_query(ui_index: Path) -> None:
    settings = Settings(answer=AnswerSettings(mode="extractive"))
    actions = Actions(Pipeline.open(ui_index, settings), ui_index, max_upload_mb=5)
    assert oct(actions.export_dir.stat().st_mode & 0o777) == "0o700"
    for n in range(KEEP_EXPORTS + 3):
        _, bibtex, ris = actions.lookup(f"secret-topic-{n} MDM2 hyperprogressive disease", 3)
        assert bibtex.visible and ris.visible
        path = Path(bibtex.value["path"])
        assert path.name == "litrag-references.bib"
        assert path.read_text(encoding="utf-8").startswith("@")
    files = sorted(p.name for p in actions.export_dir.rglob("*") if p.is_file())
    assert files == sorted(["litrag-references.bib", "litrag-references.ris"] * KEEP_EXPORTS)
    assert not any("secret" in str(p) for p in actions.export_dir.rglob("*"))
