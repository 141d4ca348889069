"""Integration: a real index on disk (real model, FAISS, SQLite, BM25) over shared documents.

Killing ingest and remove part way: test_kill.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from base.errors import IndexProblem
from base.settings import Settings, load_settings
from rag.index.backends.local.dense import search_one
from rag.index.backends.local.index import Index
from rag.index.backends.writes import Batch
from rag.index.embed.embedder import load_embedder
from rag.index.ingest.pipeline import ingest, remove
from rag.retrieve.hybrid import Filters, Retriever
from rag.retrieve.langchain import LitragRetriever

pytestmark = pytest.mark.integration
QUERY = "mitochondria in programmed cell death of the lace plant"


@pytest.fixture(scope="module")
def sample(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 40 PubMedQA abstracts, as a JSONL file of their own."""
    lines = (shared / "corpus/pubmedqa/pqal_contexts.jsonl").read_text().splitlines()[:40]
    path = tmp_path_factory.mktemp("sample") / "sample.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def search(folder: Path, settings: Settings, query: str = QUERY, **kw: object) -> list[tuple]:
    index = Index.open(folder, settings)
    retriever = Retriever(index, load_embedder(settings.embedding), settings.retrieval)
    hits = retriever.search(query, **kw)  # type: ignore[arg-type]
    index.close()
    return [(h.doc_id, round(h.score, 6), h.chunk.row) for h in hits]


def test_round_trip(sample: Path, tmp_path: Path) -> None:
    settings = Settings()
    ingest([sample], tmp_path, settings)
    first = search(tmp_path, settings)
    assert first[0][0] == "pmid:21645374"
    assert search(tmp_path, settings) == first  # reopened from disk


def test_reingest_skips_unchanged(sample: Path, tmp_path: Path) -> None:
    ingest([sample], tmp_path, Settings())
    report = ingest([sample], tmp_path, Settings())
    assert (report.documents, report.skipped) == (0, 40)


def test_changed_document_is_replaced(sample: Path, tmp_path: Path) -> None:
    ingest([sample], tmp_path, Settings())
    record = json.loads(sample.read_text().splitlines()[0])
    record["text"] += " ZEBRAFISHWORD appears now."
    changed = tmp_path.parent / f"{tmp_path.name}-changed.jsonl"
    changed.write_text(json.dumps(record) + "\n")
    report = ingest([changed], tmp_path, Settings())
    index = Index.open(tmp_path, Settings())
    assert (report.documents, index.store.counts()[0]) == (1, 40)
    assert index.dense.ntotal == index.store.counts()[1]
    assert search(tmp_path, Settings(), "ZEBRAFISHWORD", mode="sparse")[0][0] == "pmid:21645374"


def test_remove_by_id_and_bare_pmid(sample: Path, tmp_path: Path) -> None:
    ingest([sample], tmp_path, Settings())
    removed, missing = remove(["pmid:21645374", "16418930", "999"], tmp_path, Settings())
    index = Index.open(tmp_path, Settings())
    assert (len(removed), missing, index.store.counts()[0]) == (2, ["999"], 38)
    assert "pmid:21645374" not in [d for d, _, _ in search(tmp_path, Settings())]


def test_other_settings_are_refused(sample: Path, tmp_path: Path) -> None:
    ingest([sample], tmp_path, Settings())
    other = load_settings({"chunking": {"max_tokens": 100}})
    with pytest.raises(IndexProblem, match="chunk_max_tokens: index has 200, settings give 100"):
        Index.open(tmp_path, other)


def test_stale_derived_files_are_rebuilt_from_the_store(sample: Path, tmp_path: Path) -> None:
    ingest([sample], tmp_path, Settings())
    before = search(tmp_path, Settings())
    (tmp_path / "dense.json").write_text('{"generation": 0, "kind": "flat"}')
    (tmp_path / "bm25" / "state.json").unlink()
    assert search(tmp_path, Settings()) == before


@pytest.mark.parametrize("kind", ["hnsw", "ivfpq"])
def test_other_index_kinds(sample: Path, tmp_path: Path, kind: str) -> None:
    settings = load_settings({"index": {"kind": kind}})
    ingest([sample], tmp_path, settings)
    remove(["pmid:20297950"], tmp_path, settings)
    index = Index.open(tmp_path, settings)
    assert index.dense.ntotal == index.store.counts()[1]
    assert search(tmp_path, settings)[0][0] == "pmid:21645374"


def test_the_float16_scan_finds_what_the_float32_scan_finds(sample: Path, tmp_path: Path) -> None:
    plain = load_settings({"index": {"float16_scan_from": 0}})
    fast = load_settings({"index": {"float16_scan_from": 1, "search_threads": 2}})
    ingest([sample], tmp_path, plain)
    assert search(tmp_path, fast) == search(tmp_path, plain)
    index = Index.open(tmp_path, fast)
    vector = load_embedder(fast.embedding).embed_query(QUERY)
    before = index.search_dense(vector, 5)
    assert index._scan is not None  # the scan served it
    gone = Batch(
        relabel=(), replace=("pmid:21645374",), documents=(), chunks=(), vectors=vector[:0]
    )
    index.write(gone)
    assert index._scan is None  # dropped with the change; the next search builds it again
    index.finish()  # a flat index is rebuilt from the store at the end of a write
    after = index.search_dense(vector, 5)
    assert np.array_equal(after[1], search_one(index.dense, vector, 5)[1])
    assert not np.array_equal(after[1], before[1])
    index.close()


def test_filters(sample: Path, tmp_path: Path) -> None:
    ingest([sample], tmp_path, Settings())
    hits = search(tmp_path, Settings(), filters=Filters(year_min=2013, year_max=2014))
    index = Index.open(tmp_path, Settings())
    years = {index.store.document(d).year for d, _, _ in hits}  # type: ignore[union-attr]
    assert len(hits) == 7 and years == {2013, 2014}


def test_langchain_retriever(sample: Path, tmp_path: Path) -> None:
    ingest([sample], tmp_path, Settings())
    settings = Settings()
    retriever = Retriever(
        Index.open(tmp_path, settings), load_embedder(settings.embedding), settings.retrieval
    )
    docs = LitragRetriever(retriever=retriever, k=3).invoke(QUERY)
    assert len(docs) == 3 and docs[0].metadata["pmid"] == "21645374"


def test_identical_files_become_one_document(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text("A short note\n\nOne paragraph with no identifiers at all.\n")
    index_dir = tmp_path / "index"
    report = ingest([folder / "a.txt", folder / "b.txt"], index_dir, Settings())
    again = ingest([folder / "c.txt"], index_dir, Settings())  # a later run: relabelled only
    (doc,) = Index.open(index_dir, Settings()).store.list_documents()[0]
    stored = Index.open(index_dir, Settings()).store.document(doc.id)
    assert (report.documents, report.errors, again.skipped) == (1, [], 1)
    assert stored is not None and stored.source_path == str(folder / "a.txt")
    assert stored.other_sources == (str(folder / "b.txt"), str(folder / "c.txt"))


def test_duplicate_ids_never_fail_the_insert(tmp_path: Path) -> None:
    path = tmp_path / "twice.jsonl"
    line = '{"_id": "1", "title": "T", "text": "Same.", "metadata": {"pmid": "5"}}'
    path.write_text(f"{line}\n{line.replace('Same.', 'Same, longer.')}\n")
    settings = load_settings({"corpus": {"merge_duplicates": False}})
    report = ingest([path], tmp_path / "index", settings)
    index = Index.open(tmp_path / "index", settings)
    assert (report.documents, index.store.counts()[0]) == (1, 1)
    assert index.store.document("pmid:5").text == "Same, longer."  # type: ignore[union-attr]


def test_every_document_has_a_passage(shared: Path, tmp_path: Path) -> None:
    """BioASQ title-only records (29 in the first 600 lines had no passage before 2026-12)."""
    lines = (shared / "corpus/bioasq/snippets_by_pmid.jsonl").read_text().splitlines()[:70]
    path = tmp_path / "bioasq.jsonl"
    path.write_text("\n".join(lines) + "\n")
    ingest([path], tmp_path / "index", Settings())
    cmd = [sys.executable, "-m", "cli.main", "stats", "--index", str(tmp_path / "index"), "--json"]
    stats = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    assert (stats["documents"], stats["documents_without_passages"]) == (70, 0)
    hits = search(tmp_path / "index", Settings(), "Capnocytophaga canimorsus bacteremia dog bite")
    assert hits[0][0] == "pmid:10352221"  # its title is all there is of it


def test_an_index_from_older_readers_must_be_rebuilt(sample: Path, tmp_path: Path) -> None:
    ingest([sample], tmp_path, Settings())
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "reader_version": 1}))
    with pytest.raises(IndexProblem, match=r"reader_version: index has 1.*rebuild it"):
        Index.open(tmp_path, Settings())
