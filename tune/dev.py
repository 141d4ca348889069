"""Dev figures for a tuned model: how well it orders the first-stage candidates of held-out
questions (recall@10 and MRR@10 of the gold documents within each question's candidate pool).

This is cheap (no corpus re-embedding) and compares a model with its starting point on the same
pools; the retrieval figures over the whole index come from ``rag eval jsonl --gold
MODEL_DIR/validation.jsonl`` and ``benchmarks/tune_retrieval.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eval.metrics import mean, mrr_at_k, recall_at_k
from tune.data import Mined

Scorer = Callable[[str, Sequence[str]], Sequence[float]]
# Pools scored per figure. 60 pools (1,800 passages) took longer than the training budget on a
# loaded 2-core machine (docs/benchmarks.md); 30 halves it.
DEV_QUESTIONS = 30


def pool_figures(validation: Sequence[Mined], score: Scorer) -> dict[str, float]:
    """recall@10 and MRR@10 of the gold documents when ``score`` orders each pool."""
    recalls, mrrs = [], []
    for m in validation[:DEV_QUESTIONS]:
        scores = score(m.question.question, [c.text for c in m.pool])
        ranked = [
            c.doc_id for _, c in sorted(zip(scores, m.pool, strict=True), key=lambda x: -x[0])
        ]
        gold = set(m.question.gold_ids)
        recalls.append(recall_at_k(ranked, gold, 10))
        mrrs.append(mrr_at_k(ranked, gold, 10))
    n = min(len(validation), DEV_QUESTIONS)
    return {"questions": n, "pool_recall@10": round(mean(recalls), 4),
            "pool_mrr@10": round(mean(mrrs), 4)}  # fmt: skip
