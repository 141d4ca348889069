"""Hybrid query latency (k=10, query embedding included and excluded) over an index of N chunks.

    .venv/bin/python benchmarks/query_latency.py --source /tmp/shared_index --chunks 100000
    .venv/bin/python benchmarks/query_latency.py --source /tmp/shared_index --chunks 100000 \
        --backend milvus-lite       # the same scratch index copied into milvus-lite
    .venv/bin/python benchmarks/query_latency.py --source /tmp/shared_index --chunks 100000 \
        --backend both              # the local scratch index, then its milvus-lite copy

Builds a scratch index of ``--chunks`` chunks by copying the real chunks of ``--source`` (an
index of ../shared/corpus) as often as needed: BM25 sees real text, FAISS gets each copy's stored
vector plus a little noise (so copies are not exact ties). Then times 200 BioASQ questions, one
at a time, with the model loaded, and reports p50/p95 in total and per stage; "search" is the
whole hybrid search given the question's vector (the embedding excluded). With
``--backend milvus-lite`` the scratch index is copied (``rag index copy``) into a milvus-lite
file and searched there (Milvus fuses dense and BM25 itself: total and embedding only).
``--index URI`` times an existing index instead of building one.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from base.settings import Settings, load_settings  # noqa: E402
from eval.gold import load_bioasq  # noqa: E402
from rag.index.backends.local.index import Index  # noqa: E402
from rag.index.chunking import Chunk  # noqa: E402
from rag.index.embed.embedder import Embedder  # noqa: E402
from rag.index.ingest.copy import copy_index  # noqa: E402
from rag.retrieve.hybrid import Retriever, open_retriever  # noqa: E402

CHUNK_SQL = (
    'SELECT row, ordinal, section, section_index, start, "end", text FROM chunks '
    "WHERE doc_id = ? ORDER BY ordinal"
)


def build(source: Path, target: Path, n_chunks: int, settings: Settings) -> None:
    """A scratch index of ``n_chunks`` chunks made of copies of ``source``'s."""
    src = Index.open(source, settings)
    dst = Index.open(target, settings, dimension=src.manifest.dimension)
    doc_ids = [r for (r,) in src.store.db.execute("SELECT id FROM documents ORDER BY id")]
    rng = np.random.default_rng(0)
    total, copy = 0, 0
    with dst.store.transaction():
        while total < n_chunks:
            for doc_id in doc_ids:
                if total < n_chunks:
                    total += copy_document(src, dst, doc_id, copy, rng)
            copy += 1
        dst.store.bump_generation()
    dst.dense = dst.build_dense()
    dst.save()


def copy_document(src: Index, dst: Index, doc_id: str, copy: int, rng: np.random.Generator) -> int:
    """Store copy number ``copy`` of a document; returns its number of chunks."""
    doc = src.store.document(doc_id)
    rows = src.store.db.execute(CHUNK_SQL, (doc_id,)).fetchall()
    if doc is None or not rows:
        return 0
    dim = src.manifest.dimension
    stored = src.store.vectors_for([r[0] for r in rows], dim)
    new_id = f"{doc_id}#copy{copy}"
    chunks = [Chunk(new_id, o, doc.title, s, si, t, a, b) for _, o, s, si, a, b, t in rows]
    vectors = np.stack([stored[r[0]] for r in rows]) + rng.normal(0, 0.01, (len(rows), dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    pmid = doc.pmid if copy == 0 else None
    clone = dataclasses.replace(doc, id=new_id, pmid=pmid, doi=None, pmcid=None)
    dst.store.add(clone, chunks, vectors)
    return len(rows)


class Embedded:
    """Stands in for the embedder with the questions' vectors computed beforehand, so that the
    search is timed without the embedding."""

    def __init__(self, embedder: Embedder, questions: list[str]) -> None:
        self.dimension = embedder.dimension
        self.vectors = dict(zip(questions, embedder.embed_queries(questions), strict=True))

    def embed_query(self, text: str) -> np.ndarray:
        return self.vectors[text][None]


def percentiles(values: list[float]) -> str:
    return f"p50 {np.percentile(values, 50):.1f} ms, p95 {np.percentile(values, 95):.1f} ms"


def time_served(retriever: Retriever, questions: list[str]) -> None:
    """Total and embedding times of a backend that fuses itself (Milvus)."""
    stages: dict[str, list[float]] = {"total": [], "embed": []}
    for q in questions:
        t0 = time.perf_counter()
        retriever.embedder.embed_query(q)
        t1 = time.perf_counter()
        retriever.search(q, k=10)
        t2 = time.perf_counter()
        stages["total"].append((t2 - t1) * 1000)
        stages["embed"].append((t1 - t0) * 1000)
    for name, values in stages.items():
        print(f"{name:>5}: {percentiles(values)}")
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--source", type=Path, help="an index of ../shared/corpus to copy from")
    parser.add_argument("--index", help="time this existing index (a directory or Milvus URI)")
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--kind", default="flat", choices=["flat", "hnsw", "ivfpq"])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backend", default="local", choices=["local", "milvus-lite", "both"])
    args = parser.parse_args()
    settings = load_settings({"index": {"kind": args.kind}})
    questions = [q.question for q in load_bioasq(ROOT.parent / "shared/gold/bioasq")][
        : args.queries
    ]
    if args.index:
        measure(args.index, settings, questions)
        return
    if args.source is None:
        parser.error("give --source (to build a scratch index) or --index")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        build(args.source, Path(tmp), args.chunks, settings)
        print(
            f"built {args.chunks:,}-chunk {args.kind} index in {time.perf_counter() - start:.0f} s"
        )
        uri = tmp
        if args.backend == "both":
            measure(uri, settings, questions)
        if args.backend != "local":
            uri = f"milvus+lite://{tmp}/latency.db"
            start = time.perf_counter()
            copy_index(tmp, uri, settings)
            print(f"copied into {uri} in {time.perf_counter() - start:.0f} s")
        measure(uri, settings, questions)


def measure(uri: str, settings: Settings, questions: list[str]) -> None:
    """Print p50/p95 of hybrid search over the index ``uri``, in total and per stage."""
    retriever = open_retriever(uri, settings)
    print(f"index holds {retriever.index.store.counts()[1]:,} chunks")
    for q in questions[:10]:
        retriever.search(q, k=10)  # warm up
    embedder = retriever.embedder
    print(f"embedding runtime {embedder.runtime} {embedder.precision}")
    if not isinstance(retriever.index, Index):
        time_served(retriever, questions)
        return
    embedded = Retriever(retriever.index, Embedded(embedder, questions), settings.retrieval)  # type: ignore[arg-type]
    stages: dict[str, list[float]] = {
        "total": [], "search": [], "embed": [], "dense": [], "bm25": []
    }  # fmt: skip
    for q in questions:
        t0 = time.perf_counter()
        vector = retriever.embedder.embed_query(q)
        t1 = time.perf_counter()
        retriever.index.search_dense(vector, 100)
        t2 = time.perf_counter()
        retriever.index.sparse.search(q, 100)
        t3 = time.perf_counter()
        retriever.search(q, k=10)
        t4 = time.perf_counter()
        embedded.search(q, k=10)
        t5 = time.perf_counter()
        times = (t4 - t3, t5 - t4, t1 - t0, t2 - t1, t3 - t2)
        for name, value in zip(stages, times, strict=True):
            stages[name].append(value * 1000)
    for name, values in stages.items():
        print(f"{name:>6}: {percentiles(values)}")
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
