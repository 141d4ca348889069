"""Integration: the issue's done-when questions over an index of the whole shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from base.settings import Settings
from rag.answer.export import export
from rag.answer.lookup import lookup
from rag.answer.pipeline import Pipeline
from rag.answer.records import CANNOT_ANSWER

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pipeline(shared_index: Path) -> Pipeline:
    return Pipeline.open(shared_index, Settings())


def test_mdm2_answer_cites_its_paper(pipeline: Pipeline) -> None:
    answer = pipeline.ask(
        "Why are patients with MDM2 amplification at risk during immune checkpoint inhibitor "
        "therapy?"
    )
    assert "38281981" in {c.source.pmid for c in answer.citations}


def test_extractive_tumor_microenvironment_cites_33259885(pipeline: Pipeline) -> None:
    answer = pipeline.ask("What does the tumor microenvironment consist of?", mode="extractive")
    assert "33259885" in {c.source.pmid for c in answer.citations}


def test_world_cup_question_is_refused(pipeline: Pipeline) -> None:
    answer = pipeline.ask("Who won the 2018 FIFA World Cup final?")
    assert (answer.abstained, answer.answer) == (True, CANNOT_ANSWER)


def test_doi_looks_up_its_pmid(pipeline: Pipeline) -> None:
    found = lookup(pipeline, "10.1016/j.pharmthera.2020.107753")
    assert [d.pmid for d in found.documents] == ["33259885"]


def test_bibtex_for_38281981(pipeline: Pipeline) -> None:
    docs = lookup(pipeline, "38281981").documents
    assert "pmid = {38281981}" in export(docs, "bibtex")
