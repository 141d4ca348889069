"""The reranking stage: a sentence-transformers ``CrossEncoder`` re-scores the first stage's top
candidates (``retrieval.reranker``, ``retrieval.rerank_candidates``).

It reads (question, passage) together, which a bi-encoder cannot, at a cost per candidate; the
depth is a setting. With ``retrieval.rerank_fusion`` > 0 it is fused with the first stage
instead of replacing it: standardized logits plus the weighted standardized first-stage scores
(``retrieval.fusion = "scores"``) or weighted reciprocal ranks (``"rrf"``). ``rag tune reranker``
trains one.

Like the embedder, the cross-encoder's transformer runs under OpenVINO in bf16 where the CPU has
it (``retrieval.rerank_runtime``), the pairs sorted by length so that a batch pads little, and it
reads at most ``retrieval.rerank_max_tokens`` tokens of each pair. Measured 2026-11-22 on 2 cores
(AVX512-BF16, no AMX), 30 candidates of the shared index per question: torch fp32 at 256 tokens
took 1.9-7.9 s per query under load; see ``benchmarks/rerank_latency.py`` for the figures now.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sentence_transformers import CrossEncoder

from base.errors import ConfigError
from base.settings import RetrievalSettings
from rag.index.embed.embedder import bucketed, cpu_has_bf16
from rag.retrieve.fusion import zscores

log = logging.getLogger(__name__)
_BATCH = 16  # pairs per call: sorted by length, so a batch pads to its own longest pair


def passage_text(title: str, section: str, text: str) -> str:
    """What the cross-encoder reads of a passage: what the index embedded (title, heading, text;
    see ``rag.index.chunking``), so that training and reranking see the same form."""
    return "\n".join(dict.fromkeys(p for p in (title, section, text) if p))


class Reranker:
    """A loaded cross-encoder; build it with :func:`load_reranker`."""

    def __init__(
        self,
        location: str,
        threads: int | None = None,
        runtime: str = "openvino",
        max_tokens: int | None = None,
        bf16: bool | None = None,
    ) -> None:
        try:
            self.model = CrossEncoder(location, device="cpu")
        except (OSError, ValueError) as exc:
            raise ConfigError(f"retrieval.reranker {location!r} cannot be loaded: {exc}") from exc
        if max_tokens:
            self.model.max_seq_length = max_tokens
        self.name = location
        self.lock = threading.RLock()  # one call at a time: the tokenizer's state is shared
        self.bf16 = cpu_has_bf16() if bf16 is None else bf16
        self.compiled: Any = None  # rag.index.embed.openvino.Compiled under the OpenVINO runtime
        self.runtime = "torch"
        if runtime == "openvino":
            self._load_openvino(location, threads or len(os.sched_getaffinity(0)))
        if self.runtime == "torch":
            if threads:
                torch.set_num_threads(threads)
            if self.bf16:
                self.model.to(torch.bfloat16)  # 3-4x fp32 here (256 tokens, 30 pairs)

    def _load_openvino(self, location: str, threads: int) -> None:
        """Compile the cross-encoder's transformer; on failure stay on torch (the log says why)."""
        try:
            from rag.index.embed import openvino
        except ImportError as exc:
            log.warning("retrieval.rerank_runtime openvino unavailable, using torch: %s", exc)
            return
        example = self._features([("a question", "a passage")])
        self.compiled = openvino.compile_transformer(
            Path(location), self.model.transformers_model, example, self.bf16, threads,
            "retrieval.rerank_runtime",
        )  # fmt: skip
        if self.compiled is not None:
            self.runtime = "openvino"

    def _features(self, pairs: Sequence[tuple[str, str]]) -> dict[str, torch.Tensor]:
        """The model's own tokenization of ``pairs`` (padded, cut at its max length)."""
        found = self.model.preprocess(list(pairs))
        return {k: v for k, v in found.items() if isinstance(v, torch.Tensor)}

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        """One relevance score per passage (higher is more relevant): the model's sigmoid."""
        if not passages:
            return []
        with self.lock, torch.inference_mode():
            if self.compiled is None:
                found = self.model.predict(
                    [(query, p) for p in passages], batch_size=32, show_progress_bar=False
                )
                return [float(s) for s in found]
            lengths = [len(p) for p in passages]
            order = sorted(range(len(passages)), key=lambda i: lengths[i])
            logits = np.empty(len(passages), dtype=np.float32)
            for a in range(0, len(order), _BATCH):
                chosen = order[a : a + _BATCH]
                features = self._features([(query, passages[i]) for i in chosen])
                # Padded to a few shapes: OpenVINO keeps memory for each shape it has run.
                padded = bucketed(features, _BATCH, self.model.max_seq_length)
                out = self.compiled.token_embeddings(padded)  # output 0: the logits
                logits[chosen] = out.reshape(len(out), -1)[: len(chosen), 0].numpy()
        return [float(s) for s in 1.0 / (1.0 + np.exp(-logits))]

    def order(
        self,
        query: str,
        passages: Sequence[str],
        fusion: float = 0.0,
        rrf_k: float = 60.0,
        first_scores: Sequence[float] | None = None,
    ) -> list[int]:
        """Indices of ``passages`` (given in first-stage order), best first.

        ``fusion`` = 0: the cross-encoder's order. Above 0 with ``first_scores`` (the first
        stage's fused scores): the z-scores of the cross-encoder's logits plus ``fusion`` times
        the z-scores of ``first_scores``, both over these passages. Above 0 without them:
        weighted RRF of the cross-encoder's rank (weight 1) and the first-stage rank (weight
        ``fusion``).
        """
        scores = self.scores(query, passages)
        by_model = sorted(range(len(scores)), key=lambda i: -scores[i])
        if fusion <= 0:
            return by_model
        if first_scores is not None:
            p = np.clip(np.asarray(scores, dtype=np.float64), 1e-7, 1 - 1e-7)
            combined = zscores(np.log(p / (1 - p))) + fusion * zscores(np.asarray(first_scores))
            return sorted(range(len(scores)), key=lambda i: -combined[i])
        model_rank = {i: r for r, i in enumerate(by_model, start=1)}
        fused = {i: 1 / (rrf_k + model_rank[i]) + fusion / (rrf_k + i + 1) for i in model_rank}
        return sorted(fused, key=lambda i: -fused[i])


def load_reranker(settings: RetrievalSettings | str) -> Reranker:
    """The reranker ``settings`` name (or the directory given), loaded once per process."""
    if isinstance(settings, str):
        settings = RetrievalSettings(reranker=settings)
    return _load(settings.reranker, settings.rerank_runtime, settings.rerank_max_tokens)


@functools.cache
def _load(location: str, runtime: str, max_tokens: int) -> Reranker:
    return Reranker(location, runtime=runtime, max_tokens=max_tokens)
