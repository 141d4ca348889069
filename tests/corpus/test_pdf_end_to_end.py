"""End to end: the shared article PDFs ingested, a question answered from one of them, and the
chat's source card naming that paper with the page its passage is printed on.

Real parts throughout: ``rag ingest`` (the CLI), the packaged embedder, the local index,
extractive answering and the UI's card renderer. The page is checked against PDFium's raw
text of the page, not against the reader's own page map.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from base.settings import Settings
from rag.answer.pipeline import Pipeline
from ui import render

QUESTION = "Where were tadpoles discovered while the fanged frog specimens were prepared?"
PLOS = "plos-pone.0115884"


@pytest.fixture(scope="module")
def pipeline(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    index = tmp_path_factory.mktemp("pdf-index") / "index"
    cmd = [sys.executable, "-m", "cli.main", "ingest", str(shared / "corpus/pdf"), "--index",
           str(index)]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    assert result.returncode == 0, result.stderr
    return Pipeline.open(index, Settings())


def pages_printing(pdf: Path, passage: str) -> set[int]:
    """The pages of ``pdf`` whose raw text holds the passage's first eight words."""
    words = passage.split()[:8]
    pattern = re.compile(r"\W+".join(re.escape(re.sub(r"\W+$", "", w)) for w in words))
    with pdfium.PdfDocument(pdf) as document:
        texts = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    return {n for n, text in enumerate(texts, 1) if pattern.search(text.replace("\ufffe", ""))}


def test_the_paper_is_cited_with_the_page_of_its_passage(pipeline: Pipeline, shared: Path) -> None:
    answer = pipeline.ask(QUESTION, mode="extractive")
    cited = [c for c in answer.citations if c.source.doc_id == "doi:10.1371/journal.pone.0115884"]
    assert cited, [c.source.doc_id for c in answer.citations]
    source = cited[0].source
    printed = pages_printing(shared / f"corpus/pdf/{PLOS}.pdf", source.passage)
    assert printed and set(source.pages) >= printed
    card = render.citation_card(cited[0])
    assert render.page_label(source.pages) in card and "A Novel Reproductive Mode in Frogs" in card
