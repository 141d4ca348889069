"""Retrieval metrics over ranked document ids: pure functions, one question at a time.

``ranked`` is the retrieved document ids, best first, without duplicates; ``gold`` the relevant
ids. Averaging over questions is the caller's (a plain mean).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence


def hit_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """1.0 if any of the first ``k`` is relevant, else 0.0."""
    return 1.0 if any(d in gold for d in ranked[:k]) else 0.0


def recall_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """Share of the relevant documents found in the first ``k`` (0.0 when there are none)."""
    if not gold:
        return 0.0
    return len(set(ranked[:k]) & set(gold)) / len(set(gold))


def mrr_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """1 / rank of the first relevant document within the first ``k``, else 0.0."""
    for rank, doc in enumerate(ranked[:k], start=1):
        if doc in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """Normalised discounted cumulative gain with binary relevance."""
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in gold)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(set(gold)), k)))
    return dcg / ideal if ideal else 0.0


def mean(values: Sequence[float]) -> float:
    """The plain mean; 0.0 for no values."""
    return sum(values) / len(values) if values else 0.0
