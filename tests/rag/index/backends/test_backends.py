"""Integration: one test body, two backends (a local directory and milvus-lite), real embedder.

ingest -> search (filters, the seed query) -> ask -> lookup/verify -> remove -> re-ingest, on a
few shared files; a manifest mismatch refused; ``rag index copy`` local -> milvus-lite.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from base.errors import IndexProblem
from base.settings import Settings
from rag.answer.lookup import lookup, verify_claim
from rag.answer.pipeline import Pipeline
from rag.index.backends import open_index
from rag.index.backends.milvus.records import MilvusRecords
from rag.index.ingest.copy import copy_index
from rag.index.ingest.pipeline import ingest as ingest_uri
from rag.index.ingest.pipeline import remove as remove_uri
from rag.retrieve.hybrid import Filters, open_retriever

pytestmark = pytest.mark.integration
SEED = "MDM2 amplification hyperprogressive disease immune checkpoint"
MDM2 = "38281981"


@pytest.fixture(scope="module")
def files(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two seed papers, a PubMed XML record, a PMC article and 40 PubMedQA contexts."""
    folder = tmp_path_factory.mktemp("backend_corpus")
    corpus = shared / "corpus"
    for seed in (corpus / "seeds").iterdir():
        shutil.copy(seed, folder / seed.name)
    shutil.copy(corpus / "pubmed/pubmed-29768149.xml", folder / "pubmed.xml")
    shutil.copy(corpus / "pmc/cc11003.nxml", folder / "cc11003.nxml")
    pqal = (corpus / "pubmedqa/pqal_contexts.jsonl").read_text().splitlines()[:40]
    (folder / "pqal.jsonl").write_text("\n".join(pqal) + "\n")
    return folder


def uri_for(backend: str, tmp_path: Path) -> str:
    return str(tmp_path / "index") if backend == "local" else f"milvus+lite://{tmp_path}/i.db"


@pytest.mark.parametrize("backend", ["local", "milvus"])
def test_ingest_search_ask_remove_reingest(backend: str, files: Path, tmp_path: Path) -> None:
    settings = Settings()
    uri = uri_for(backend, tmp_path)
    report = ingest_uri([files], uri, settings)
    assert report.errors == [] and report.documents == 44

    pipeline = Pipeline.open(uri, settings)
    retriever = pipeline.retriever
    hits = retriever.search(SEED, k=5)
    assert hits[0].chunk.pmid == MDM2 and hits[0].dense_score and hits[0].dense_score > 0.5
    assert len({h.doc_id for h in hits}) == 5
    recent = retriever.search(SEED, k=10, filters=Filters(year_min=2024))
    assert recent and all(h.chunk.year and h.chunk.year >= 2024 for h in recent)
    assert not retriever.search(SEED, filters=Filters(year_max=1900))
    journal = retriever.search(SEED, k=3, filters=Filters(journal="biomed sci"))
    assert [h.chunk.pmid for h in journal] == [MDM2]
    pmids = retriever.search(SEED, k=5, filters=Filters(pmids=("29768149", "33259885")))
    assert {h.chunk.pmid for h in pmids} == {"29768149", "33259885"}
    abstracts = retriever.search("cancer", k=10, filters=Filters(sections=("abst",)))
    assert abstracts and all(h.chunk.section.lower().startswith("abst") for h in abstracts)
    # A quote in a filter value is part of the value, not of the expression.
    assert not retriever.search(SEED, filters=Filters(journal='x" or year > 0 or journal == "'))
    assert retriever.search(SEED, k=3, mode="dense")[0].chunk.pmid == MDM2
    assert retriever.search(SEED, k=3, mode="sparse")[0].chunk.pmid == MDM2

    answer = pipeline.ask("What is MDM2 amplification associated with?", mode="extractive")
    assert not answer.abstained and MDM2 in {c.source.pmid for c in answer.citations}
    found = lookup(pipeline, MDM2)
    assert [d.pmid for d in found.documents] == [MDM2] and found.documents[0].authors
    verdict = verify_claim(pipeline, "MDM2 is a target in malignancies.", f"pmid:{MDM2}")
    assert verdict.citation.source.pmid == MDM2
    stats = open_index(uri, settings).stats()
    assert (stats["documents"], stats["documents_without_passages"]) == (44, 0)
    chunks = stats["chunks"]

    assert remove_uri([MDM2, "pmid:404"], uri, settings) == (
        [f"pmid:{MDM2}"],
        ["pmid:404"],
    )
    after = open_retriever(uri, settings)
    assert MDM2 not in {h.chunk.pmid for h in after.search(SEED, k=10)}
    assert after.index.store.resolve(MDM2) == []

    again = ingest_uri([files], uri, settings)
    assert (again.documents, again.skipped) == (1, 43)
    final = open_retriever(uri, settings)
    assert final.search(SEED, k=1)[0].chunk.pmid == MDM2
    assert final.index.stats()["chunks"] == chunks
    assert final.index.store.counts() == (44, chunks)


@pytest.mark.parametrize("backend", ["local", "milvus"])
def test_manifest_mismatch_is_refused(backend: str, files: Path, tmp_path: Path) -> None:
    uri = uri_for(backend, tmp_path)
    ingest_uri([files / "pubmed.xml"], uri, Settings())
    other = Settings(chunking={"max_tokens": 100})  # type: ignore[arg-type]
    with pytest.raises(IndexProblem, match="chunk_max_tokens: index has 200, settings give 100"):
        open_index(uri, other)
    with pytest.raises(IndexProblem, match="other settings"):
        ingest_uri([files / "pubmed.xml"], uri, other)


def test_copy_local_to_milvus_keeps_search_results(files: Path, tmp_path: Path) -> None:
    settings = Settings()
    local = str(tmp_path / "local")
    ingest_uri([files], local, settings)
    lite = f"milvus+lite://{tmp_path}/copy.db#papers"
    assert copy_index(local, lite, settings) == open_index(local, settings).store.counts()
    a, b = open_retriever(local, settings), open_retriever(lite, settings)
    for query in (SEED, "tumor microenvironment", "antibiotic resistance in children"):
        dense = [[h.doc_id for h in r.search(query, k=10, mode="dense")] for r in (a, b)]
        assert dense[0] == dense[1]  # the same vectors, exact search on both
        assert a.search(query, k=1)[0].doc_id == b.search(query, k=1)[0].doc_id
    row = a.search(SEED, k=1)[0].chunk.row
    doc = a.index.store.document(f"pmid:{MDM2}")
    assert doc == b.index.store.document(f"pmid:{MDM2}")
    assert len(a.index.store.vectors_for([row], 384)) == 1
    with pytest.raises(IndexProblem, match="already holds documents"):
        copy_index(local, lite, settings)


@pytest.mark.parametrize("backend", ["local", "milvus"])
def test_a_paper_seen_in_an_earlier_batch_is_not_stored_twice(
    backend: str, shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh Milvus collection answers "same paper?" from the keys its writer wrote, asking
    Milvus (a query that scans the collection) only about a paper it wrote already; that paper
    may lie batches back (ingest writes 128 papers a batch)."""
    lines = (shared / "corpus/pubmedqa/pqal_contexts.jsonl").read_text().splitlines()[:130]
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "b.jsonl").write_text(lines[0] + "\n")  # read after a.jsonl: a later batch
    asked: list[str] = []
    real = MilvusRecords.matches
    monkeypatch.setattr(
        MilvusRecords, "matches", lambda self, doc: asked.append(doc.id) or real(self, doc)
    )
    uri = uri_for(backend, tmp_path)
    report = ingest_uri([folder], uri, Settings())
    assert (report.documents, report.errors) == (130, [])
    assert open_index(uri, Settings()).stats()["documents"] == 130
    if backend == "milvus":
        # Only the paper met again, and only when its batch was written before it was read
        # again (reading runs ahead of writing; until then the batch is pending, not asked).
        assert len(asked) <= 1
