"""Integration: the real gold sets in ../shared load completely."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from eval.gold import load_gold

pytestmark = pytest.mark.integration


def test_pubmedqa_dev_has_500_labelled_questions(shared: Path) -> None:
    questions = load_gold("pubmedqa", shared / "gold" / "pubmedqa" / "pqal_dev.json")
    assert len(questions) == 500
    assert {q.label for q in questions} == {"yes", "no", "maybe"}
    assert all(q.gold_ids == (f"pmid:{q.id}",) for q in questions)


def test_bioasq_7b_to_10b(shared: Path) -> None:
    questions = load_gold("bioasq", shared / "gold" / "bioasq")
    assert len(questions) == 1983
    assert Counter(q.type for q in questions) == {
        "factoid": 642, "yesno": 532, "summary": 464, "list": 345,
    }  # fmt: skip
    assert all(q.label in ("yes", "no") for q in questions if q.type == "yesno")
    assert all(q.exact_groups for q in questions if q.type in ("factoid", "list"))
