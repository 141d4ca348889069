from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from base.settings import ChunkingSettings
from corpus.model import Section, build_document
from rag.index.chunking import STAND_IN, Chunker

SENTENCE = "Statins lower LDL cholesterol in adults with diabetes. "


def words(text: str) -> int:
    return len(text.split())


def chunker(max_tokens: int = 40, overlap: int = 8) -> Chunker:
    return Chunker(ChunkingSettings(max_tokens=max_tokens, overlap_tokens=overlap), words)


def doc(*sections: Section):
    return build_document(title="T", sections=list(sections), source_path="x", format="text")


def test_short_section_is_one_chunk_with_offsets() -> None:
    (c,) = chunker().chunk([doc(Section("Abstract", "  Short text.  "))])
    assert (c.text, c.start, c.end) == ("Short text.", 2, 13)


def test_long_section_chunks_fit_and_point_into_the_text() -> None:
    text = SENTENCE * 30
    chunks = list(chunker().chunk([doc(Section("Results", text))]))
    assert len(chunks) > 1
    assert all(words(c.text) <= 40 and text[c.start : c.end] == c.text for c in chunks)


def test_chunks_cover_the_whole_section_in_order() -> None:
    text = SENTENCE * 30
    chunks = list(chunker().chunk([doc(Section("Results", text))]))
    assert chunks[0].start == 0 and chunks[-1].end == len(text.rstrip())
    assert all(a.start < b.start <= a.end for a, b in itertools.pairwise(chunks))


def test_neighbours_overlap() -> None:
    chunks = list(chunker().chunk([doc(Section("Results", SENTENCE * 30))]))
    assert all(b.start < a.end for a, b in itertools.pairwise(chunks))


def test_cuts_fall_on_sentence_ends() -> None:
    chunks = list(chunker().chunk([doc(Section("Results", SENTENCE * 30))]))
    assert all(c.text.endswith(".") for c in chunks)


def test_chunks_never_span_sections() -> None:
    chunks = list(chunker().chunk([doc(Section("A", SENTENCE * 3), Section("B", SENTENCE * 3))]))
    assert [(c.section, c.section_index) for c in chunks] == [("A", 0), ("B", 1)]


def test_ordinals_count_across_sections() -> None:
    chunks = list(chunker(32, 0).chunk([doc(Section("A", SENTENCE * 9), Section("B", "x."))]))
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_pages_follow_the_offsets() -> None:
    text = SENTENCE * 10 + SENTENCE * 10
    section = Section("Body", text, pages=((0, 3), (len(SENTENCE) * 10, 4)))
    chunks = list(chunker().chunk([doc(section)]))
    assert (chunks[0].page_start, chunks[-1].page_end) == (3, 4)


def test_embed_text_is_prefixed_by_title_and_heading() -> None:
    (c,) = chunker().chunk([doc(Section("Methods", "We did."))])
    assert c.embed_text == "T\nMethods\nWe did."


@pytest.mark.integration
def test_real_tokenizer_budget() -> None:
    from base.settings import EmbeddingSettings
    from rag.index.embed.embedder import load_embedder

    embedder = load_embedder(EmbeddingSettings())
    real = Chunker(ChunkingSettings(), embedder.count_tokens)
    chunks = list(real.chunk([doc(Section("Results", SENTENCE * 80))]))
    assert len(chunks) > 2 and all(embedder.count_tokens(c.text) <= 200 for c in chunks)


@pytest.mark.integration
def test_one_text_is_counted_as_in_a_batch(shared: Path) -> None:
    # One text goes straight to the Rust encoder of a copy of the tokenizer: the same counts as
    # a batch call and as the model's own tokenizer, never truncated at the model's 256 tokens
    # (which an embedding call leaves set on the model's tokenizer).
    from base.settings import EmbeddingSettings
    from rag.index.embed.embedder import load_embedder

    lines = (shared / "corpus/pubmedqa/pqal_contexts.jsonl").read_text().splitlines()[:30]
    texts = [json.loads(line)["text"] for line in lines]
    embedder = load_embedder(EmbeddingSettings())
    embedder.embed_documents(texts[:2])
    one = [embedder.count_tokens_batch([text])[0] for text in texts]
    assert one == embedder.count_tokens_batch(texts) == [embedder.count_tokens(t) for t in texts]
    assert max(one) > 256


@pytest.mark.integration
def test_counting_by_token_offsets_cuts_the_same_passages(shared: Path) -> None:
    # Ingest's chunker counts the splitter's pieces from the offsets of their section's tokens;
    # the passages are the ones counting each piece alone gives (PMC full texts: long sections).
    from base.settings import Settings
    from corpus import read_many
    from rag.index.embed.embedder import load_embedder
    from rag.index.ingest.pipeline import make_chunker

    settings = Settings()
    embedder = load_embedder(settings.embedding)
    docs, _ = read_many(sorted((shared / "corpus/pmc").glob("*.nxml"))[:6], settings.corpus)
    fast = make_chunker(settings, embedder)
    assert fast.offsets_batch is not None
    alone = Chunker(settings.chunking, embedder.count_tokens)
    cut = fast.chunk_many(docs)
    assert sum(map(len, cut)) > 50
    assert cut == [list(alone.chunk([doc])) for doc in docs]


def test_each_piece_of_a_section_is_counted_once() -> None:
    counted: list[str] = []

    def counting(text: str) -> int:
        counted.append(text)
        return words(text)

    text = " ".join(f"Sentence {i} on statins, LDL and adults; with diabetes." for i in range(60))
    memo = Chunker(ChunkingSettings(max_tokens=40, overlap_tokens=8), counting)
    chunks = list(memo.chunk([doc(Section("Results", text))]))
    assert len(counted) == len(set(counted))  # the splitter asks for many twice
    assert [(c.start, c.end) for c in chunks] == [(c.start, c.end) for c in chunker().chunk(
        [doc(Section("Results", text))])]  # fmt: skip
    assert len(chunks) > 5 and all(words(c.text) <= 40 for c in chunks)


def test_a_title_only_document_gets_its_title_as_passage() -> None:
    (c,) = chunker().chunk([doc()])
    assert (c.section, c.section_index, c.text, c.start, c.end) == ("Title", STAND_IN, "T", 0, 1)
    assert c.embed_text == "T\nTitle"  # the title once, not title, heading and title again


def test_a_document_without_title_or_text_gets_its_record_line() -> None:
    bare = build_document(
        title="", sections=[Section("Abstract", "  ")], source_path="x", format="pubmed",
        pmid="123", journal="BMJ", year=1999, mesh_terms=("Aspirin",),
    )  # fmt: skip
    (c,) = chunker().chunk([bare])
    assert (c.section, c.text) == ("Record", "PMID 123; BMJ; 1999; Aspirin")


def test_a_long_title_alone_is_cut_like_any_text() -> None:
    long = build_document(title=SENTENCE * 30, sections=[], source_path="x", format="jsonl")
    chunks = list(chunker().chunk([long]))
    assert len(chunks) > 1 and all(words(c.text) <= 40 for c in chunks)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


@pytest.mark.integration
def test_a_huge_section_is_tokenized_window_by_window() -> None:
    # One record of megabytes: never tokenized whole, and the passages still fit, follow each
    # other and point into the section.
    from base.settings import Settings
    from rag.index.chunking import WINDOW_CHARS
    from rag.index.embed.embedder import load_embedder
    from rag.index.ingest.pipeline import make_chunker

    settings = Settings()
    embedder = load_embedder(settings.embedding)
    cut = make_chunker(settings, embedder)
    assert cut.offsets_batch is not None
    asked: list[int] = []
    offsets = cut.offsets_batch
    cut.offsets_batch = lambda texts: (asked.extend(map(len, texts)), offsets(texts))[1]
    text = "".join(f"Paragraph {i}. {SENTENCE * 3}\n\n" for i in range(6000))  # ~1.1 M chars
    (chunks,) = cut.chunk_many([doc(Section("Body", text))])
    assert asked and max(asked) <= WINDOW_CHARS < len(text)
    assert all(c.text == text[c.start : c.end] for c in chunks)
    assert (
        max(embedder.count_tokens_batch([c.text for c in chunks])) <= settings.chunking.max_tokens
    )
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert chunks[-1].end == len(text.rstrip())
