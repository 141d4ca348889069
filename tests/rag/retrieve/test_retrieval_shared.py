"""Integration: hybrid retrieval over an index of the whole shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from base.settings import Settings
from eval.gold import load_bioasq
from eval.metrics import mean, recall_at_k
from rag.retrieve.hybrid import Filters, Retriever, open_retriever

pytestmark = pytest.mark.integration
SEED = "MDM2 amplification and hyperprogressive disease under immune checkpoint inhibitors"


@pytest.fixture(scope="module")
def retriever(shared_index: Path) -> Retriever:
    return open_retriever(shared_index, Settings())


def test_seed_query_finds_its_paper_first(retriever: Retriever) -> None:
    assert retriever.search(SEED, k=10)[0].chunk.pmid == "38281981"


def test_hits_report_both_retrievers(retriever: Retriever) -> None:
    top = retriever.search(SEED, k=1)[0]
    assert (top.dense_rank, top.sparse_rank) == (1, 1) and top.dense_score and top.sparse_score


def test_one_passage_per_document_by_default(retriever: Retriever) -> None:
    hits = retriever.search("tumor microenvironment", k=10)
    assert len({h.doc_id for h in hits}) == 10


def test_pmid_filter(retriever: Retriever) -> None:
    hits = retriever.search(SEED, k=5, filters=Filters(pmids=("33259885", "29768149")))
    assert {h.chunk.pmid for h in hits} == {"33259885", "29768149"}


def test_hybrid_beats_each_retriever_on_a_dev_sample(shared: Path, retriever: Retriever) -> None:
    questions = list(load_bioasq(shared / "gold/bioasq/7B1_golden.json"))

    def recall(mode: str) -> float:
        ranked = [
            [h.doc_id for h in retriever.search(q.question, k=10, mode=mode)] for q in questions
        ]  # type: ignore[arg-type]
        return mean(
            [recall_at_k(r, q.gold_ids, 10) for r, q in zip(ranked, questions, strict=True)]
        )

    scores = {mode: recall(mode) for mode in ("sparse", "dense", "hybrid")}
    assert scores["hybrid"] > max(scores["sparse"], scores["dense"]), scores
