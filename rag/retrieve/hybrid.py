"""Question -> ranked hits: dense (FAISS) + BM25, fused with reciprocal-rank fusion.

Fusion works on documents: each retriever's chunk ranking becomes a document ranking (a
document ranks where its best chunk does), the two are fused with weighted RRF, and each
document is shown by its best passages. This keeps one long paper with many matching chunks from
pushing other papers out of the candidate lists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

from base.errors import IndexProblem
from base.settings import RetrievalSettings, Settings
from rag.index.dense import search_one
from rag.index.embeddings import Embedder, load_embedder
from rag.index.local import Index
from rag.index.store import StoredChunk
from rag.retrieve.rerank import Reranker, load_reranker, passage_text

Mode = Literal["hybrid", "dense", "sparse"]


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrict a search to some documents or sections. Empty fields do not restrict."""

    year_min: int | None = None
    year_max: int | None = None
    journal: str | None = None  # case-insensitive substring of the journal name
    pmids: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()  # case-insensitive prefixes of section headings

    def sql(self) -> tuple[str, list[object]] | None:
        """A WHERE clause over chunks ``c`` and documents ``d``, or None when nothing is set."""
        clauses: list[str] = []
        params: list[object] = []
        if self.year_min is not None:
            clauses.append("d.year >= ?")
            params.append(self.year_min)
        if self.year_max is not None:
            clauses.append("d.year <= ?")
            params.append(self.year_max)
        if self.journal:
            clauses.append("d.journal LIKE ?")
            params.append(f"%{self.journal}%")
        if self.pmids:
            clauses.append(f"d.pmid IN ({','.join('?' * len(self.pmids))})")
            params += list(self.pmids)
        if self.sections:
            clauses.append("(" + " OR ".join("c.section LIKE ?" for _ in self.sections) + ")")
            params += [f"{s}%" for s in self.sections]
        return (" AND ".join(clauses), params) if clauses else None


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
    """Hybrid search over an open :class:`Index` with a loaded :class:`Embedder`."""

    def __init__(self, index: Index, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.reranker: Reranker | None = (
            load_reranker(settings.reranker) if settings.reranker else None
        )

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
        where = filters.sql() if filters else None
        allowed = self.index.store.rows_where(*where) if where else None
        if allowed is not None and not len(allowed):
            return Retrieval(query, ())
        n = max(self.settings.candidates, k)
        query_vector = self.embedder.embed_query(query)[0] if mode != "sparse" else None
        dense = self._dense(query_vector, n, allowed) if query_vector is not None else []
        sparse = self.index.sparse.search(query, n, allowed) if mode != "dense" else []
        chunks = self.index.store.chunks(list({r for r, _ in dense + sparse}))
        candidates = self._documents(dense, sparse, chunks)
        ranked = sorted(candidates.items(), key=lambda kv: -self._fused(kv[1]))
        rerank = rerank and mode == "hybrid" and self.reranker is not None
        hits = self._hits(ranked, chunks, max(k, self.settings.rerank_candidates) if rerank else k)
        if rerank:
            hits = self._rerank(query, hits, k)
        if self.settings.mmr_lambda is not None and query_vector is not None:
            hits = self._mmr(hits, query_vector, k)
        return Retrieval(query, tuple(hits), query_vector)

    def _dense(
        self, vector: np.ndarray, n: int, allowed: np.ndarray | None
    ) -> list[tuple[int, float]]:
        dense = self.index.dense
        if not dense.ntotal:
            return []
        params = None
        if allowed is not None:
            params = faiss.SearchParameters()
            params.sel = faiss.IDSelectorBatch(allowed)
        scores, ids = search_one(dense, vector[None], min(n, dense.ntotal), params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    @staticmethod
    def _documents(
        dense: list[tuple[int, float]],
        sparse: list[tuple[int, float]],
        chunks: dict[int, StoredChunk],
    ) -> dict[str, _Candidate]:
        """Each retriever's chunk ranking turned into document ranks."""
        found: dict[str, _Candidate] = defaultdict(_Candidate)
        for which, ranking in (("dense", dense), ("sparse", sparse)):
            rank = 0
            for row, score in ranking:
                if row not in chunks:
                    continue  # removed since the dense index was built
                doc = found[chunks[row].doc_id]
                if row not in doc.rows:
                    doc.rows.append(row)
                if getattr(doc, which) is None:
                    rank += 1
                    setattr(doc, which, (rank, score))
        return found

    def _fused(self, doc: _Candidate) -> float:
        s, k = self.settings, self.settings.rrf_k
        dense = s.dense_weight / (k + doc.dense[0]) if doc.dense else 0.0
        sparse = s.sparse_weight / (k + doc.sparse[0]) if doc.sparse else 0.0
        return dense + sparse

    def _hits(
        self, ranked: list[tuple[str, _Candidate]], chunks: dict[int, StoredChunk], k: int
    ) -> list[Hit]:
        hits: list[Hit] = []
        for _, doc in ranked:
            for row in doc.rows[: self.settings.per_document]:
                hits.append(
                    Hit(
                        rank=len(hits) + 1,
                        score=self._fused(doc),
                        chunk=chunks[row],
                        dense_score=doc.dense[1] if doc.dense else None,
                        dense_rank=doc.dense[0] if doc.dense else None,
                        sparse_score=doc.sparse[1] if doc.sparse else None,
                        sparse_rank=doc.sparse[0] if doc.sparse else None,
                    )
                )
                if len(hits) == k:
                    return hits
        return hits

    def _rerank(self, query: str, hits: list[Hit], k: int) -> list[Hit]:
        """The best ``k`` of ``hits`` as the reranker orders them (rag/retrieve/rerank.py)."""
        assert self.reranker is not None
        texts = [passage_text(h.chunk.title, h.chunk.section, h.chunk.text) for h in hits]
        order = self.reranker.order(query, texts, self.settings.rerank_fusion, self.settings.rrf_k)
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


def open_retriever(folder: Path, settings: Settings) -> Retriever:
    """A :class:`Retriever` over the index in ``folder``, checked against ``settings``."""
    index = Index.open(folder, settings)
    embedder = load_embedder(settings.embedding)
    if embedder.dimension != index.manifest.dimension:
        raise IndexProblem(
            f"the index at {folder} holds {index.manifest.dimension}-d vectors but "
            f"{embedder.name} makes {embedder.dimension}-d ones"
        )
    return Retriever(index, embedder, settings.retrieval)
