"""Question -> ranked hits: dense (FAISS) + BM25, fused by their scores or their ranks.

On an index whose engine fuses the two itself (``rag.index.backends.FusedSearch``: Milvus, by
``hybrid_search`` with its RRF ranker, on passages) the passages are then grouped by document
here as below.

Fusion works on documents: each retriever's chunk ranking becomes a document ranking (a
document ranks where its best chunk does, with that chunk's score), the two are fused, and each
document is shown by its best passages. This keeps one long paper with many matching chunks from
pushing other papers out of the candidate lists.

``retrieval.fusion = "scores"`` (the default) adds each list's standardized scores (z-scores over
the list's documents, weighted; a document one list lacks gets that list's lowest). It keeps how
far apart two documents score, which ranks throw away. On BioASQ 7B-10B (scratch replay over
``/tmp/shared_index``, 2026-11-22) it raised recall@10 over weighted RRF from 0.788 to 0.802 on
the 1,585 training questions and from 0.815 to 0.818 on the 398 validation ones with the packaged
MiniLM, and from 0.834 to 0.844 on the validation questions with the tuned embedder
(``rag tune embedder``; dense weight 1.5). ``"rrf"`` keeps reciprocal-rank fusion.
"""

from __future__ import annotations

import functools
import os
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from base.errors import IndexProblem
from base.settings import RetrievalSettings, Settings
from rag.index.backends import CandidateSearch, Filters, FusedSearch, SearchIndex, open_index
from rag.index.backends.records import StoredChunk
from rag.index.embed.embedder import Embedder, load_embedder
from rag.retrieve.fusion import zscores
from rag.retrieve.rerank import Reranker, load_reranker, passage_text

__all__ = ["Filters", "Hit", "Mode", "Retrieval", "Retriever", "open_retriever"]

Mode = Literal["hybrid", "dense", "sparse"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved passage with its document's metadata and how each retriever ranked it."""

    rank: int
    score: float  # fused
    chunk: StoredChunk
    dense_score: float | None = None
    dense_rank: int | None = None  # the document's rank in the dense list (1-based)
    sparse_score: float | None = None
    sparse_rank: int | None = None

    @property
    def doc_id(self) -> str:
        """The document's id."""
        return self.chunk.doc_id


@dataclass(frozen=True, slots=True)
class Retrieval:
    """What one search found, with the question's vector so later steps need not embed it again.

    ``query_vector`` is the unit vector (shape ``(dimension,)``) the dense search used; it is
    None when no embedding was made (a sparse-only search, or filters that match nothing).
    """

    query: str
    hits: tuple[Hit, ...]
    query_vector: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass
class _Candidate:
    rows: list[int] = field(default_factory=list)  # the document's chunks, best first
    dense: tuple[int, float] | None = None  # (document rank, best chunk score)
    sparse: tuple[int, float] | None = None


class Retriever:
    """Hybrid search over an open index (local or Milvus) with a loaded :class:`Embedder`."""

    def __init__(self, index: SearchIndex, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.reranker: Reranker | None = load_reranker(settings) if settings.reranker else None

    def search(
        self,
        query: str,
        k: int | None = None,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        rerank: bool = True,
    ) -> list[Hit]:
        """The ``k`` best hits for ``query`` (the hits of :meth:`retrieve`)."""
        return list(self.retrieve(query, k, filters, mode, rerank).hits)

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        rerank: bool = True,
    ) -> Retrieval:
        """The ``k`` best hits for ``query``, at most ``per_document`` passages per document.

        The question's vector comes back with the hits, so that the answer step reuses it. A
        hybrid search is reranked when a reranker is configured, unless ``rerank`` is False.
        """
        k = k or self.settings.k
        n = max(self.settings.candidates, k)
        if isinstance(self.index, FusedSearch):
            return self._served(self.index, query, k, n, filters, mode)
        if not isinstance(self.index, CandidateSearch):
            raise IndexProblem(f"{type(self.index).__name__} offers no search")
        local = self.index
        allowed = local.rows_where(filters) if filters else None
        if allowed is not None and not len(allowed):
            return Retrieval(query, ())
        # BM25 runs on another thread while the question is embedded (OpenVINO lets go of the
        # GIL while it computes): the two overlap instead of adding up.
        sparse_later = (
            _background().submit(local.sparse_search().search, query, n, allowed)  # loaded here
            if mode == "hybrid"
            else None
        )
        query_vector = self.embedder.embed_query(query)[0] if mode != "sparse" else None
        dense = local.dense_candidates(query_vector, n, allowed) if query_vector is not None else []
        if sparse_later is not None:
            sparse = sparse_later.result()
        else:
            sparse = local.sparse_search().search(query, n, allowed) if mode != "dense" else []
        # Fusion needs only each passage's document; the passages shown are read afterwards
        # (100k chunks: ~180 candidate rows read whole took 2.9 ms, their documents 0.75 ms).
        doc_of = local.doc_ids(list({r for r, _ in dense + sparse}))
        candidates = self._documents(dense, sparse, doc_of)
        fused = self._fuse(candidates)
        ranked = sorted(candidates.items(), key=lambda kv: -fused[kv[0]])
        rerank = rerank and mode == "hybrid" and self.reranker is not None
        depth = max(k, self.settings.rerank_candidates) if rerank else k
        hits = self._hits(ranked, fused, depth)
        if rerank:
            hits = self._rerank(query, hits, k)
        if self.settings.mmr_lambda is not None and query_vector is not None:
            hits = self._mmr(hits, query_vector, k)
        return Retrieval(query, tuple(hits), query_vector)

    def _served(
        self, index: FusedSearch, query: str, k: int, n: int, filters: Filters | None, mode: Mode
    ) -> Retrieval:
        """Search an index that fuses itself (Milvus): passages grouped by document, each
        document where its best passage ranks, ``dense_score`` its best cosine to the query."""
        vector = self.embedder.embed_query(query)[0] if mode != "sparse" else None
        found = index.fused_search(query if mode != "dense" else "", vector, n, filters,
                                   self.settings.rrf_k)  # fmt: skip
        by_doc: dict[str, list[tuple[StoredChunk, float, float | None]]] = {}
        for item in found:
            by_doc.setdefault(item[0].doc_id, []).append(item)
        hits: list[Hit] = []
        for passages in by_doc.values():
            cosines = [c for _, _, c in passages if c is not None]
            best = max(cosines) if cosines else None
            score = passages[0][1]
            for chunk, _, _ in passages[: self.settings.per_document]:
                hits.append(Hit(rank=len(hits) + 1, score=score, chunk=chunk, dense_score=best,
                                sparse_score=score if mode == "sparse" else None))  # fmt: skip
        hits = hits[:k]
        if self.settings.mmr_lambda is not None and vector is not None:
            hits = self._mmr(hits, vector, k)
        return Retrieval(query, tuple(hits), vector)

    @staticmethod
    def _documents(
        dense: list[tuple[int, float]],
        sparse: list[tuple[int, float]],
        doc_of: dict[int, str],
    ) -> dict[str, _Candidate]:
        """Each retriever's chunk ranking turned into document ranks."""
        found: dict[str, _Candidate] = defaultdict(_Candidate)
        for which, ranking in (("dense", dense), ("sparse", sparse)):
            rank = 0
            for row, score in ranking:
                if row not in doc_of:
                    continue  # removed since the dense index was built
                doc = found[doc_of[row]]
                if row not in doc.rows:
                    doc.rows.append(row)
                if getattr(doc, which) is None:
                    rank += 1
                    setattr(doc, which, (rank, score))
        return found

    def _fuse(self, candidates: dict[str, _Candidate]) -> dict[str, float]:
        """Each document's fused score (``retrieval.fusion``; higher is better)."""
        s = self.settings
        if s.fusion == "rrf":
            k = s.rrf_k
            return {
                name: (s.dense_weight / (k + doc.dense[0]) if doc.dense else 0.0)
                + (s.sparse_weight / (k + doc.sparse[0]) if doc.sparse else 0.0)
                for name, doc in candidates.items()
            }
        dense = _standardized({n: d.dense[1] for n, d in candidates.items() if d.dense})
        sparse = _standardized({n: d.sparse[1] for n, d in candidates.items() if d.sparse})
        dense_floor = min(dense.values(), default=0.0)  # a document the list did not find
        sparse_floor = min(sparse.values(), default=0.0)
        return {
            name: s.dense_weight * dense.get(name, dense_floor)
            + s.sparse_weight * sparse.get(name, sparse_floor)
            for name in candidates
        }

    def _hits(
        self, ranked: list[tuple[str, _Candidate]], fused: dict[str, float], k: int
    ) -> list[Hit]:
        """The first ``k`` passages of the ranked documents (``per_document`` each at most)."""
        chosen: list[tuple[int, str, _Candidate]] = []
        for name, doc in ranked:
            chosen += [(row, name, doc) for row in doc.rows[: self.settings.per_document]]
            if len(chosen) >= k:
                break
        chunks = self.index.store.chunks([row for row, _, _ in chosen[:k]])
        hits: list[Hit] = []
        for row, name, doc in chosen[:k]:
            if row not in chunks:
                continue  # removed by another process since its document was looked up
            hits.append(
                Hit(
                    rank=len(hits) + 1,
                    score=fused[name],
                    chunk=chunks[row],
                    dense_score=doc.dense[1] if doc.dense else None,
                    dense_rank=doc.dense[0] if doc.dense else None,
                    sparse_score=doc.sparse[1] if doc.sparse else None,
                    sparse_rank=doc.sparse[0] if doc.sparse else None,
                )
            )
        return hits

    def _rerank(self, query: str, hits: list[Hit], k: int) -> list[Hit]:
        """The best ``k`` of ``hits`` as the reranker orders them (rag/retrieve/rerank.py)."""
        assert self.reranker is not None
        texts = [passage_text(h.chunk.title, h.chunk.section, h.chunk.text) for h in hits]
        s = self.settings
        first = [h.score for h in hits] if s.fusion == "scores" else None
        order = self.reranker.order(query, texts, s.rerank_fusion, s.rrf_k, first)
        return [replace(hits[i], rank=r) for r, i in enumerate(order[:k], start=1)]

    def _mmr(self, hits: Sequence[Hit], query: np.ndarray, k: int) -> list[Hit]:
        """Re-order ``hits`` by maximal marginal relevance (lambda = mmr_lambda)."""
        lam = float(self.settings.mmr_lambda or 0.0)
        vectors = self.index.store.vectors_for([h.chunk.row for h in hits], self.embedder.dimension)
        pool = [h for h in hits if h.chunk.row in vectors]
        chosen: list[Hit] = []
        while pool and len(chosen) < k:

            def gain(h: Hit) -> float:
                v = vectors[h.chunk.row]
                redundancy = max((float(v @ vectors[c.chunk.row]) for c in chosen), default=0.0)
                return lam * float(v @ query) - (1 - lam) * redundancy

            best = max(pool, key=gain)
            pool.remove(best)
            chosen.append(replace(best, rank=len(chosen) + 1))
        return chosen


def _standardized(scores: dict[str, float]) -> dict[str, float]:
    """``scores`` as z-scores over their own values."""
    values = zscores(np.fromiter(scores.values(), dtype=np.float64, count=len(scores)))
    return dict(zip(scores, (float(v) for v in values), strict=True))


@functools.cache
def _background() -> ThreadPoolExecutor:
    """The threads BM25 searches run on, next to the embedding (one per core)."""
    return ThreadPoolExecutor(len(os.sched_getaffinity(0)), thread_name_prefix="litrag-bm25")


def open_retriever(uri: str | Path, settings: Settings) -> Retriever:
    """A :class:`Retriever` over the index ``uri`` names (a directory or a Milvus URI),
    checked against ``settings``."""
    index = open_index(uri, settings)
    embedder = load_embedder(settings.embedding)
    if embedder.dimension != index.manifest.dimension:
        raise IndexProblem(
            f"the index at {uri} holds {index.manifest.dimension}-d vectors but "
            f"{embedder.name} makes {embedder.dimension}-d ones"
        )
    return Retriever(index, embedder, settings.retrieval)
