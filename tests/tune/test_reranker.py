"""The reranking stage changes the order as its cross-encoder was trained to, and only then.

A tiny CrossEncoder is trained here (tune.reranker, from the packaged MiniLM) to put the asthma
paper first for a question whose first stage puts the tumour-microenvironment paper first; a
Retriever with ``retrieval.reranker`` set to it follows the training, the fused stage does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from base.settings import Settings, load_settings
from rag.index.embed.embedder import default_model_path
from rag.index.ingest.pipeline import ingest
from rag.retrieve.hybrid import Retriever, open_retriever
from rag.retrieve.rerank import load_reranker
from tune import reranker
from tune.data import passage_text
from tune.loop import TrainOptions

DOCS = {
    "mdm2.txt": "PMID: 11111111\nTitle: MDM2 amplification and hyperprogression\n\nPatients with "
    "MDM2 amplification are vulnerable to hyperprogressive disease after immunotherapy.",
    "tme.txt": "PMID: 22222222\nTitle: The tumour microenvironment\n\nThe tumour "
    "microenvironment consists of immune cells, fibroblasts and extracellular matrix.",
    "asthma.txt": "PMID: 33333333\nTitle: Budesonide in asthma\n\nInhaled budesonide reduces "
    "asthma exacerbations in children.",
}
QUESTION = "What does the tumour microenvironment consist of?"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("docs")
    for name, text in DOCS.items():
        (src / name).write_text(text)
    folder = tmp_path_factory.mktemp("index")
    ingest([src], folder, Settings())
    return folder


@pytest.fixture(scope="module")
def trained(index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    first = open_retriever(index, Settings())
    texts = {h.chunk.pmid: passage_text(h) for h in first.search(QUESTION, k=3)}
    first.index.close()
    group = ("q", QUESTION, texts["33333333"], (texts["22222222"], texts["11111111"],
                                                texts["22222222"]))  # fmt: skip
    model = reranker.load(str(default_model_path()), 64)
    options = TrainOptions(epochs=8, batch_size=4, learning_rate=1e-4, max_tokens=64, warmup=0)
    reranker.fit(model, [group], options)
    out = tmp_path_factory.mktemp("reranker")
    reranker.save(model, out)
    return out


@pytest.fixture(scope="module")
def retriever(index: Path, trained: Path) -> Iterator[Retriever]:
    settings = load_settings({"retrieval": {"reranker": str(trained), "rerank_candidates": 3}})
    retriever = open_retriever(index, settings)
    yield retriever
    retriever.index.close()


def test_the_reranker_puts_first_what_it_was_trained_to(retriever: Retriever) -> None:
    assert retriever.reranker is not None
    assert retriever.search(QUESTION, k=3, rerank=False)[0].chunk.pmid == "22222222"
    reranked = retriever.search(QUESTION, k=3)
    assert reranked[0].chunk.pmid == "33333333"
    assert [h.rank for h in reranked] == [1, 2, 3]


def test_fusion_with_a_heavy_first_stage_weight_keeps_the_first_stage_order(trained: Path) -> None:
    model = load_reranker(str(trained))
    passages = ["tumour microenvironment text", "asthma text", "mdm2 text"]
    assert model.order(QUESTION, passages, fusion=100.0) == [0, 1, 2]
    assert sorted(model.order(QUESTION, passages)) == [0, 1, 2]


def test_dense_and_sparse_searches_are_not_reranked(retriever: Retriever) -> None:
    assert retriever.search(QUESTION, k=3, mode="sparse")[0].chunk.pmid == "22222222"
