"""The float16 scan of a flat index finds what faiss's float32 IndexFlatIP finds (real faiss)."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from rag.index.backends.local.dense import make_index, search_one
from rag.index.backends.local.flatscan import MIN_SHARD, FlatScan

DIM = 384


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def crowded() -> tuple[faiss.Index, np.ndarray]:
    """2.5 shards' worth of vectors; each query has hundreds of near-copies whose scores lie
    within float16's error of each other, so that the candidate list must grow."""
    rng = np.random.default_rng(7)
    n = 2 * MIN_SHARD + MIN_SHARD // 2
    base = rng.standard_normal((n, DIM), dtype=np.float32)
    queries = unit(rng.standard_normal((12, DIM), dtype=np.float32))
    for i, q in enumerate(queries):  # 400 vectors at cosine ~0.9 to each query, spread over shards
        at = rng.choice(n, 400, replace=False)
        base[at] = 0.9 * q + rng.normal(0, 2e-4, (400, DIM)).astype(np.float32) + 0.02 * i
    vectors = unit(base)
    index = make_index("flat", DIM)
    index.add_with_ids(vectors, np.arange(n, dtype=np.int64) * 3 + 5)  # ids are not positions
    return index, queries


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("k", [1, 10, 100])
def test_same_hits_and_scores_as_the_float32_scan(
    crowded: tuple[faiss.Index, np.ndarray], threads: int, k: int
) -> None:
    index, queries = crowded
    scan = FlatScan.of(index, threads)
    assert scan is not None and len(scan.shards) == min(threads, 2)
    for q in queries:
        want_scores, want_ids = search_one(index, q[None], k)
        scores, ids = scan.search(q[None], k)
        # The k best float32 scores, each belonging to the id returned with it: a top k of
        # the float32 scan (vectors with exactly equal scores may be swapped).
        assert np.array_equal(scores, want_scores)
        assert len(set(ids[0])) == k
        for i, score in zip(ids[0], scores[0], strict=True):
            assert abs(float(index.reconstruct(int(i)) @ q) - score) < 1e-6
        above = scores[0] > scores[0][-1]
        assert set(ids[0][above]) == set(want_ids[0][above])


def test_more_than_the_index_holds(crowded: tuple[faiss.Index, np.ndarray]) -> None:
    _, queries = crowded
    small = make_index("flat", DIM)
    small.add_with_ids(unit(np.eye(5, DIM, dtype=np.float32) + 0.1), np.arange(5, dtype=np.int64))
    scan = FlatScan.of(small, 2)
    assert scan is not None
    scores, ids = scan.search(queries[:1], 100)
    assert sorted(ids[0]) == [0, 1, 2, 3, 4] and scores.shape == (1, 5)


def test_a_changed_index_is_not_fresh() -> None:
    index = make_index("flat", DIM)
    index.add_with_ids(unit(np.ones((3, DIM), np.float32)), np.arange(3, dtype=np.int64))
    scan = FlatScan.of(index, 2)
    assert scan is not None and scan.fresh_for(index)
    index.add_with_ids(unit(np.ones((1, DIM), np.float32)), np.array([9], dtype=np.int64))
    assert not scan.fresh_for(index)


@pytest.mark.parametrize("kind", ["hnsw"])
def test_only_flat_inner_product_indexes(kind: str) -> None:
    assert FlatScan.of(make_index(kind, DIM), 2) is None  # type: ignore[arg-type]
    assert FlatScan.of(faiss.IndexFlatIP(DIM), 2) is None  # no id map: ids are not chunk rows
