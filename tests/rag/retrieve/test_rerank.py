"""The reranker's runtimes agree: OpenVINO (the default) scores as sentence-transformers does.

A CrossEncoder with a seeded untrained head on the packaged MiniLM re-scores real PubMedQA
passages; OpenVINO (bf16 where the CPU has it) and torch bf16 must give the float32 torch scores'
order and nearly their values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sentence_transformers import CrossEncoder

from rag.index.embed.embedder import default_model_path
from rag.retrieve.rerank import Reranker


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("ce")
    CrossEncoder(str(default_model_path()), num_labels=1, device="cpu").save_pretrained(
        str(folder), safe_serialization=True
    )
    return str(folder)


@pytest.fixture(scope="module")
def passages(shared: Path) -> list[str]:
    with (shared / "corpus/pubmedqa/pqal_contexts.jsonl").open() as f:
        return [json.loads(line)["text"] for _, line in zip(range(30), f, strict=False)]


def test_openvino_and_bf16_agree_with_float32(model_dir: str, passages: list[str]) -> None:
    question = "Do mitochondria play a role in remodelling lace plant leaves during cell death?"
    reference = Reranker(model_dir, runtime="torch", bf16=False).scores(question, passages)
    for runtime in ("openvino", "torch"):
        model = Reranker(model_dir, runtime=runtime)
        assert model.runtime == runtime
        found = model.scores(question, passages)
        assert np.abs(np.array(found) - np.array(reference)).max() < 0.02
        ranks = [np.argsort(np.argsort(x)) for x in (found, reference)]
        assert np.corrcoef(*ranks)[0, 1] > 0.95


def test_an_unloadable_model_is_a_config_error(tmp_path: Path) -> None:
    from base.errors import ConfigError

    with pytest.raises(ConfigError, match=r"retrieval\.reranker"):
        Reranker(str(tmp_path / "missing"))


def test_score_fusion_adds_standardized_logits_and_first_stage_scores(
    model_dir: str, passages: list[str]
) -> None:
    """rerank_fusion with first-stage scores: z(logit) + fusion * z(first-stage score)."""
    question = "Do mitochondria play a role in remodelling lace plant leaves during cell death?"
    model = Reranker(model_dir, runtime="torch", bf16=False)
    p = np.clip(np.array(model.scores(question, passages)), 1e-7, 1 - 1e-7)
    logits = np.log(p / (1 - p))
    first = list(np.linspace(3.0, -1.0, len(passages)))  # the first stage's order: 0, 1, 2 ...
    combined = (logits - logits.mean()) / logits.std() + 2.0 * (first - np.mean(first)) / np.std(
        first
    )
    assert model.order(question, passages, 2.0, first_scores=first) == list(np.argsort(-combined))
    assert model.order(question, passages, 0.0, first_scores=first) == list(np.argsort(-logits))
    assert model.order(question, passages, 1e6, first_scores=first) == list(range(len(passages)))
