"""First-stage fusion settings chosen on BioASQ training questions, scored on the validation split.

    .venv/bin/python benchmarks/fusion_sweep.py --index /tmp/shared_index

For every BioASQ question it takes the dense and the BM25 document rankings once (each
retriever's top ``retrieval.candidates`` chunks, grouped by document as the hybrid search groups
them), then replays the reciprocal-rank fusion offline for a grid of ``rrf_k``, dense and sparse
weights. The grid point with the best recall@10 on the training questions (those
``tune.data.is_validation`` does not hold out) is then scored once on the validation questions,
beside today's settings, so the choice never sees the questions it is judged on. It also prints
recall@30 of the fused list: the most a reranker of 30 candidates can reach.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from base.settings import load_settings  # noqa: E402
from eval.gold import load_bioasq  # noqa: E402
from eval.metrics import mean, recall_at_k  # noqa: E402
from rag.index.local import Index  # noqa: E402
from rag.retrieve.hybrid import Retriever, open_retriever  # noqa: E402
from tune.data import is_validation  # noqa: E402

GOLD = ROOT.parent / "shared/gold/bioasq"
Ranks = tuple[dict[str, int], dict[str, int]]  # document -> rank, dense and sparse


def rankings(retriever: Retriever, question: str) -> Ranks:
    """Each retriever's document ranks for ``question`` (the hybrid search's own grouping)."""
    index = retriever.index
    assert isinstance(index, Index), "the sweep replays the local index's fusion"
    n = retriever.settings.candidates
    vector = retriever.embedder.embed_query(question)[0]
    dense = retriever._dense(index, vector, n, None)
    sparse = index.sparse.search(question, n, None)
    doc_of = index.store.doc_ids(list({r for r, _ in dense + sparse}))
    found = retriever._documents(dense, sparse, doc_of)
    return ({d: c.dense[0] for d, c in found.items() if c.dense},
            {d: c.sparse[0] for d, c in found.items() if c.sparse})  # fmt: skip


def fused(ranks: Ranks, k: float, wd: float, ws: float, depth: int) -> list[str]:
    """The top ``depth`` documents of the weighted RRF of the two rankings."""
    dense, sparse = ranks
    score = {d: wd / (k + r) for d, r in dense.items()}
    for d, r in sparse.items():
        score[d] = score.get(d, 0.0) + ws / (k + r)
    return sorted(score, key=lambda d: -score[d])[:depth]


def recall(runs: list[tuple[Ranks, set[str]]], k: float, wd: float, ws: float, at: int) -> float:
    """Mean recall@``at`` over ``runs``."""
    return mean([recall_at_k(fused(r, k, wd, ws, at), gold, at) for r, gold in runs])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", required=True, help="an index directory of ../shared/corpus")
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    args = parser.parse_args()
    settings = load_settings()
    retriever = open_retriever(args.index, settings)
    start = time.perf_counter()
    train, held = [], []
    for q in load_bioasq(GOLD):
        run = (rankings(retriever, q.question), set(q.gold_ids))
        (held if is_validation(q.id, args.validation_fraction) else train).append(run)
    print(f"{len(train)} training and {len(held)} validation questions ranked in "
          f"{time.perf_counter() - start:.0f} s (load {os.getloadavg()[0]:.1f})")  # fmt: skip
    s = settings.retrieval
    today = (s.rrf_k, s.dense_weight, s.sparse_weight)
    grid = list(itertools.product((5, 10, 20, 30, 60, 100, 200), (0.6, 0.8, 1.0, 1.2, 1.5),
                                  (1.0,)))  # fmt: skip
    best = max(grid, key=lambda g: recall(train, *g, 10))
    print(
        "| fusion (rrf_k, dense w, sparse w) | train recall@10 | validation recall@10 | "
        "validation recall@30 |"
    )
    print("| --- | --- | --- | --- |")
    for name, g in (("today", today), ("best on train", best)):
        print(
            f"| {name} {g} | {recall(train, *g, 10):.4f} | {recall(held, *g, 10):.4f} | "
            f"{recall(held, *g, 30):.4f} |"
        )
    only = [("dense only", (60, 1.0, 0.0)), ("BM25 only", (60, 0.0, 1.0))]
    for name, g in only:
        print(
            f"| {name} | {recall(train, *g, 10):.4f} | {recall(held, *g, 10):.4f} | "
            f"{recall(held, *g, 30):.4f} |"
        )


if __name__ == "__main__":
    main()
