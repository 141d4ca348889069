"""The reranking stage: a sentence-transformers ``CrossEncoder`` re-scores the first stage's top
candidates (``retrieval.reranker``, ``retrieval.rerank_candidates``).

It reads (question, passage) together, which a bi-encoder cannot, at a cost per candidate; the
depth is a setting. With ``retrieval.rerank_fusion`` > 0 its ranking is fused with the first
stage's (weighted reciprocal ranks) instead of replacing it. ``rag tune reranker`` trains one.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence

import torch
from sentence_transformers import CrossEncoder

from base.errors import ConfigError


def passage_text(title: str, section: str, text: str) -> str:
    """What the cross-encoder reads of a passage: what the index embedded (title, heading, text;
    see ``rag.index.chunking``), so that training and reranking see the same form."""
    return "\n".join(dict.fromkeys(p for p in (title, section, text) if p))


class Reranker:
    """A loaded cross-encoder; build it with :func:`load_reranker`."""

    def __init__(self, location: str, threads: int | None = None) -> None:
        try:
            self.model = CrossEncoder(location, device="cpu")
        except (OSError, ValueError) as exc:
            raise ConfigError(f"retrieval.reranker {location!r} cannot be loaded: {exc}") from exc
        if threads:
            torch.set_num_threads(threads)
        self.name = location
        self.lock = threading.RLock()  # one call at a time: the tokenizer's state is shared

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        """One relevance score per passage (higher is more relevant)."""
        if not passages:
            return []
        with self.lock, torch.inference_mode():
            found = self.model.predict(
                [(query, p) for p in passages], batch_size=32, show_progress_bar=False
            )
        return [float(s) for s in found]

    def order(
        self, query: str, passages: Sequence[str], fusion: float = 0.0, rrf_k: float = 60.0
    ) -> list[int]:
        """Indices of ``passages`` (given in first-stage order), best first.

        ``fusion`` = 0: the cross-encoder's order. Above 0: weighted RRF of the cross-encoder's
        rank (weight 1) and the first-stage rank (weight ``fusion``).
        """
        scores = self.scores(query, passages)
        by_model = sorted(range(len(scores)), key=lambda i: -scores[i])
        if fusion <= 0:
            return by_model
        model_rank = {i: r for r, i in enumerate(by_model, start=1)}
        fused = {i: 1 / (rrf_k + model_rank[i]) + fusion / (rrf_k + i + 1) for i in model_rank}
        return sorted(fused, key=lambda i: -fused[i])


@functools.cache
def load_reranker(location: str) -> Reranker:
    """The reranker in ``location``, loaded once per process."""
    return Reranker(location)
