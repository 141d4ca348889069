"""Fine-tune the embedder: ``MultipleNegativesRankingLoss`` over (question, gold passage, hard
negative) triples, every other row's passages in the batch serving as further negatives."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

from tune.data import Mined, Progress, batches_without_repeats
from tune.dev import pool_figures
from tune.loop import LoopReport, TrainOptions, train

Row = tuple[str, str, str, str]
LOSS = "MultipleNegativesRankingLoss (scale 20, cosine) with one mined hard negative per pair"


def load(location: str) -> SentenceTransformer:
    """The model to start from, in float32 on the CPU."""
    return SentenceTransformer(location, device="cpu", model_kwargs={"dtype": torch.float32})


def fit(
    model: SentenceTransformer,
    rows: Sequence[Row],
    options: TrainOptions,
    progress: Progress | None = None,
) -> LoopReport:
    """Train ``model`` in place on (question id, question, positive, negative) rows."""
    full_length = model.max_seq_length
    model.max_seq_length = options.max_tokens
    loss = MultipleNegativesRankingLoss(model)
    batches = batches_without_repeats(rows, options.batch_size, options.seed)

    def loss_of(batch: list[Row]) -> torch.Tensor:
        columns = [[r[i] for r in batch] for i in (1, 2, 3)]
        features = [model.preprocess(c) for c in columns]
        value: torch.Tensor = loss(features, torch.zeros(len(batch)))
        return value

    model.train()
    try:
        return train(batches, loss_of, model.parameters(), options, progress)
    finally:
        model.eval()
        model.max_seq_length = full_length


def scorer(model: SentenceTransformer):  # type: ignore[no-untyped-def]
    """Cosine of question and passages, for :func:`tune.dev.pool_figures`."""

    def score(question: str, texts: Sequence[str]) -> Sequence[float]:
        with torch.inference_mode():
            q = model.encode_query([question], normalize_embeddings=True)
            d = model.encode_document(list(texts), batch_size=32, normalize_embeddings=True)
        return [float(x) for x in np.asarray(d) @ np.asarray(q)[0]]

    return score


def dev(model: SentenceTransformer, validation: Sequence[Mined]) -> dict[str, float]:
    """The dev figures of ``model`` (see :mod:`tune.dev`)."""
    return pool_figures(validation, scorer(model))


def save(model: SentenceTransformer, folder: Path) -> None:
    """The model in sentence-transformers format with safetensors weights."""
    model.save(str(folder), safe_serialization=True, create_model_card=False)


def training_rows(mined: Sequence[Mined], fraction: float) -> list[Row]:
    """The (question id, question, positive, negative) rows of the training questions."""
    from tune.data import training_examples

    return training_examples(mined, fraction)
