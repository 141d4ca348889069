"""A PDF's pages reach the answer: chunk -> store -> hit -> source -> JSON, with the real model.

The PDF is written here with fpdf2; its Methods section runs from page 1 onto page 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from base.settings import Settings
from corpus.pdf import read_pdf
from rag.answer.pipeline import Pipeline
from rag.index.ingest.pipeline import ingest

PAGES = [
    [
        "MDM2 amplification and hyperprogression under checkpoint inhibitors",
        "Jane Doe, John Smith",
        "doi: 10.1234/mdm2.2020.0042   PMID: 31234567",
        "Abstract",
        "Some patients treated with immune checkpoint inhibitors progress faster than before, and",
        "we asked whether amplification of MDM2 in the tumour explains this hyperprogression.",
        "Methods",
        "We sequenced tumours of patients with advanced cancer before immunotherapy and recorded",
        "the growth rate of their tumours during the first two months of checkpoint inhibitor",
    ],
    [
        "therapy, comparing patients whose tumours carried MDM2 amplification with the others.",
        "Results",
        "Patients with MDM2 amplification developed hyperprogressive disease far more often than",
        "patients without it, and their survival after the start of immunotherapy was shorter.",
    ],
]
METHODS_Q = (
    "How was tumour growth during checkpoint inhibitor therapy compared between patients with "
    "and without MDM2 amplification?"
)
RESULTS_Q = "Did patients with MDM2 amplification develop hyperprogressive disease more often?"


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for lines in PAGES:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path_factory.mktemp("pdf") / "mdm2.pdf"
    pdf.output(str(path))
    return path


@pytest.fixture(scope="module")
def pipeline(paper: Path, tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    folder = tmp_path_factory.mktemp("index")
    ingest([paper], folder, Settings())
    return Pipeline.open(folder, Settings())


def test_a_passage_across_a_page_break_has_both_pages(pipeline: Pipeline) -> None:
    answer = pipeline.ask(METHODS_Q, mode="extractive")
    assert [(c.source.section, c.source.pages) for c in answer.citations] == [("Methods", (1, 2))]


def test_a_passage_on_one_page_has_that_page(pipeline: Pipeline) -> None:
    answer = pipeline.ask(RESULTS_Q, mode="extractive")
    assert [(c.source.section, c.source.pages) for c in answer.citations] == [("Results", (2,))]


def test_answer_json_offsets_point_into_the_section(paper: Path, pipeline: Pipeline) -> None:
    data = pipeline.ask(METHODS_Q, mode="extractive").to_json()
    [doc] = read_pdf(paper)
    methods = next(s.text for s in doc.sections if s.heading == "Methods")
    for item in (data["sources"][0], data["citations"][0]):
        assert (methods[item["start"] : item["end"]], item["pages"]) == (item["passage"], [1, 2])
