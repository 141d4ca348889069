"""Answer records carry what the layers below knew: a passage's offsets and pages, a sentence's
paragraph. No model: the chunker counts words and the store holds 4-d vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from base.settings import ChunkingSettings
from corpus.model import Section, build_document
from rag.answer.citations import render
from rag.answer.pipeline import page_range, to_source
from rag.answer.records import Answer, Citation, Sentence, Source
from rag.index.backends.local.store import Store
from rag.index.chunking import Chunker
from rag.retrieve.hybrid import Hit

# A PDF-like section that starts on page 4 and runs onto page 5 at "Survival".
METHODS = (
    "Patients with MDM2 amplification were followed for a year after immunotherapy. "
    "Survival was recorded at each visit."
)
PAGE_BREAK = METHODS.index("Survival")


def stored_source(tmp_path: Path) -> tuple[Source, str]:
    """The section's passage after a trip through the chunker and the store, and the section."""
    doc = build_document(
        title="MDM2 and HPD", source_path="paper.pdf", format="pdf", pmid="1",
        sections=[Section("Methods", METHODS, pages=((0, 4), (PAGE_BREAK, 5)))],
    )  # fmt: skip
    chunks = list(Chunker(ChunkingSettings(), lambda text: len(text.split())).chunk([doc]))
    vectors = np.eye(len(chunks), 4, dtype=np.float32)
    store = Store(tmp_path / "store.sqlite")
    with store.transaction():
        (row,) = store.add(doc, chunks, vectors)
    stored = store.chunks([row])[row]
    store.close()
    return to_source(1, Hit(rank=1, score=0.5, chunk=stored)), doc.sections[0].text


def test_a_source_keeps_its_chunks_pages_and_offsets(tmp_path: Path) -> None:
    source, section = stored_source(tmp_path)
    assert source.pages == (4, 5)
    assert section[source.start : source.end] == source.passage


def test_source_json_has_offsets_and_pages(tmp_path: Path) -> None:
    source, _ = stored_source(tmp_path)
    data = source.to_json()
    assert (data["start"], data["end"], data["pages"]) == (0, len(METHODS), [4, 5])


def test_citation_json_has_the_sources_pages(tmp_path: Path) -> None:
    source, _ = stored_source(tmp_path)
    assert Citation(1, source, True, 0.8).to_json()["pages"] == [4, 5]


def test_a_source_without_pages_says_so() -> None:
    data = Source(1, "pmid:1", "T", "Abstract", "Text.", 0.0).to_json()
    assert (data["start"], data["end"], data["pages"]) == (None, None, [])


def test_page_range() -> None:
    assert [page_range(4, 4), page_range(4, 6), page_range(None, None)] == [(4,), (4, 5, 6), ()]


def test_sentence_json_has_its_paragraph() -> None:
    answer = Answer("q", "A [1].", False, "generate", sentences=(Sentence("A.", (1,), True, 2),))
    assert answer.to_json()["sentences"] == [
        {"text": "A.", "citations": [1], "supported": True, "paragraph": 2}
    ]


def test_split_stop_leaves_the_place_for_markers() -> None:
    assert Sentence("MDM2 drives HPD.", (1,), True).split_stop() == ("MDM2 drives HPD", ".")
    assert Sentence("No stop", (1,), True).split_stop() == ("No stop", "")


def test_answer_text_keeps_the_sentences_paragraphs() -> None:
    sentences = [Sentence("One.", (1,), True, 0), Sentence("Two.", (), False, 0),
                 Sentence("Three?", (2, 1), True, 3)]  # fmt: skip
    assert render(sentences) == "One [1]. Two.\n\nThree [2][1]?"
