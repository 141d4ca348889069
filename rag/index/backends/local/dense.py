"""FAISS indexes by kind: exact inner product by default, HNSW and IVF-PQ for large corpora.

Vectors are L2-normalised, so inner product is cosine similarity. Every kind takes explicit
int64 ids (the chunk row in the SQLite store) through ``add_with_ids``.
"""

from __future__ import annotations

import math
from typing import Literal

import faiss
import numpy as np

from base.errors import ConfigError

IndexKind = Literal["flat", "hnsw", "ivfpq"]
KINDS: tuple[IndexKind, ...] = ("flat", "hnsw", "ivfpq")

HNSW_M = 32  # links per node: faiss's usual default for 384-d text embeddings
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96
PQ_BYTES = 48  # 384-d / 48 sub-quantizers = 8 dims each, 8 bits: 48 bytes per vector
IVF_NPROBE = 16
MIN_PQ_TRAIN = 39 * 256  # faiss wants ≥ 39 points per centroid; 8-bit PQ has 256 per codebook


def ivf_lists(n_vectors: int) -> int:
    """Number of IVF cells for ``n_vectors``: ~4·√n, at least 1, with ≥ 39 vectors per cell
    for training (faiss warns below that)."""
    return max(1, min(int(4 * math.sqrt(n_vectors)), n_vectors // 39))


def make_index(kind: IndexKind, dim: int, train: np.ndarray | None = None) -> faiss.Index:
    """An empty index of ``kind`` for ``dim``-d vectors; IVF-PQ is trained on ``train``."""
    if kind == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        hnsw.hnsw.efSearch = HNSW_EF_SEARCH
        return faiss.IndexIDMap2(hnsw)
    if train is None or len(train) < MIN_PQ_TRAIN:
        got = 0 if train is None else len(train)
        raise ConfigError(
            f"index.kind = 'ivfpq' needs at least {MIN_PQ_TRAIN:,} vectors to train its codebooks "
            f"(have {got:,}); use 'flat' or 'hnsw' for a corpus this small"
        )
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFPQ(
        quantizer, dim, ivf_lists(len(train)), PQ_BYTES, 8, faiss.METRIC_INNER_PRODUCT
    )
    index.train(np.ascontiguousarray(train, dtype=np.float32))
    index.nprobe = IVF_NPROBE
    return index


def reserve(index: faiss.Index, n: int) -> None:
    """Make room for ``n`` vectors in a flat index at once, before adding them block by block.

    Without it each add grows the codes vector geometrically, and the last growth holds the old
    and the new copy together: 420k 384-d vectors added 50k at a time peaked at 1,342 MB RSS,
    against 882 MB after this (faiss 1.15.1, 2026-11-22). A std::vector keeps its capacity when
    shrunk, so growing to the full size and back to 0 reserves it; faiss exposes no reserve.
    """
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    if isinstance(inner, faiss.IndexFlatCodes) and inner.ntotal == 0:
        inner.codes.resize(n * inner.code_size)
        inner.codes.resize(0)


def set_search_depth(index: faiss.Index) -> None:
    """Restore search-time parameters, which faiss does not keep in the file for all kinds."""
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    if isinstance(inner, faiss.IndexHNSWFlat):
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    elif isinstance(inner, faiss.IndexIVFPQ):
        inner.nprobe = IVF_NPROBE


def search_one(
    index: faiss.Index, vector: np.ndarray, n: int, params: faiss.SearchParameters | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Search one query vector on one thread.

    With faiss's default of one OpenMP thread per core, a single query spends most of its time
    handing work between threads: measured here (faiss 1.15.1, 2 cores) flat 10k vectors took
    24 ms p50 on 2 threads and 0.27 ms on 1 (benchmarks/scale_ann.py). Builds keep all threads.
    """
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(vector, n, params=params)
    finally:
        faiss.omp_set_num_threads(threads)
