"""Integration: a real index on disk (real model, FAISS, SQLite, BM25) over shared documents."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.embeddings import load_embedder
from rag.errors import IndexProblem
from rag.index import Index
from rag.ingest import ingest, remove
from rag.lc import LitragRetriever
from rag.retrieval import Filters, Retriever
from rag.settings import Settings, load_settings

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


def test_killed_ingest_resumes_without_duplicates(shared: Path, tmp_path: Path) -> None:
    corpus = shared / "corpus/pubmedqa/pqal_contexts.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "rag.cli",
        "ingest",
        str(corpus),
        "--index",
        str(tmp_path),
        "--json",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and _stored(tmp_path) < 200:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored = _stored(tmp_path)
    assert 0 < stored < 1000, "the kill should land mid-way"
    assert Index.open(tmp_path, Settings()).store.counts()[0] == stored  # loadable as committed
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=True)
    summary = json.loads(done.stdout.splitlines()[-1])
    index = Index.open(tmp_path, Settings())
    docs, chunks = index.store.counts()
    distinct = index.store.db.execute("SELECT COUNT(DISTINCT doc_id || ':' || ordinal) FROM chunks")
    assert (summary["skipped"], docs, distinct.fetchone()[0]) == (stored, 1000, chunks)
    assert index.dense.ntotal == chunks and len(index.sparse.rows) == chunks


def _stored(folder: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{folder / 'store.sqlite'}?mode=ro", uri=True, timeout=1)
        return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0
