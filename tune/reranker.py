"""Train a reranker: a sentence-transformers ``CrossEncoder`` started from the packaged MiniLM,
scoring (question, passage). Each gold passage is set against hard negatives of its question; a
softmax over the group puts the gold passage first (a listwise cross-entropy loss)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from sentence_transformers import CrossEncoder

from tune.data import SEED, Mined, Progress, is_validation
from tune.dev import pool_figures
from tune.loop import LoopReport, TrainOptions, train

Group = tuple[str, str, str, tuple[str, ...]]  # question id, question, positive, negatives
NEGATIVES = 3  # hard negatives per gold passage
LOSS = f"listwise cross-entropy over 1 gold passage and {NEGATIVES} mined hard negatives"


def groups(mined: Sequence[Mined], fraction: float, seed: int = SEED) -> list[Group]:
    """One group per gold passage of each training question (validation questions left out)."""
    out = []
    for m in mined:
        if is_validation(m.question.id, fraction, seed) or len(m.negatives) < NEGATIVES:
            continue
        for i, positive in enumerate(m.positives):
            negs = tuple(
                m.negatives[(i * NEGATIVES + j) % len(m.negatives)] for j in range(NEGATIVES)
            )
            out.append((m.question.id, m.question.question, positive, negs))
    return out


def load(location: str, max_tokens: int) -> CrossEncoder:
    """A cross-encoder with one output, from a model directory (a new head on a bi-encoder)."""
    model: CrossEncoder = CrossEncoder(location, num_labels=1, max_length=max_tokens, device="cpu")
    return model


def fit(
    model: CrossEncoder,
    rows: Sequence[Group],
    options: TrainOptions,
    progress: Progress | None = None,
) -> LoopReport:
    """Train ``model`` in place; ``options.batch_size`` counts (question, passage) pairs."""
    import random

    net = model.transformers_model
    assert net is not None
    per_batch = max(1, options.batch_size // (NEGATIVES + 1))
    order = list(rows)
    random.Random(options.seed).shuffle(order)  # noqa: S311 -- a shuffle, not a secret
    batches = [order[i : i + per_batch] for i in range(0, len(order), per_batch)]
    loss_fn = torch.nn.CrossEntropyLoss()

    def loss_of(batch: list[Group]) -> torch.Tensor:
        pairs = [(g[1], p) for g in batch for p in (g[2], *g[3])]
        inputs = model.tokenizer(
            [q for q, _ in pairs], [p for _, p in pairs], truncation="only_second",
            max_length=options.max_tokens, padding=True, return_tensors="pt",
        )  # fmt: skip
        logits = net(**inputs).logits.view(len(batch), NEGATIVES + 1)
        value: torch.Tensor = loss_fn(logits, torch.zeros(len(batch), dtype=torch.long))
        return value

    net.train()
    try:
        return train(batches, loss_of, net.parameters(), options, progress)
    finally:
        net.train(False)


def scorer(model: CrossEncoder):  # type: ignore[no-untyped-def]
    """Cross-encoder scores of question and passages, for :func:`tune.dev.pool_figures`."""

    def score(question: str, texts: Sequence[str]) -> Sequence[float]:
        scores = model.predict([(question, t) for t in texts], batch_size=32)
        return [float(s) for s in scores]

    return score


def dev(model: CrossEncoder, validation: Sequence[Mined]) -> dict[str, float]:
    """The dev figures of ``model`` (see :mod:`tune.dev`)."""
    return pool_figures(validation, scorer(model))


def save(model: CrossEncoder, folder: Path) -> None:
    """The cross-encoder with safetensors weights."""
    model.save_pretrained(str(folder), safe_serialization=True)
