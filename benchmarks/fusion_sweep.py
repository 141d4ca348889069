"""First-stage fusion settings chosen on BioASQ training questions, scored on the validation split.

    .venv/bin/python benchmarks/fusion_sweep.py --index /tmp/shared_index
    LITRAG_EMBEDDING__MODEL=/tmp/s7/embedder .venv/bin/python benchmarks/fusion_sweep.py \
        --index /tmp/s7/tuned_index          # an index built with a tuned embedder

For every BioASQ question it takes the dense and the BM25 document lists once (each retriever's
top ``retrieval.candidates`` chunks, grouped by document as the hybrid search groups them), then
replays both fusions (``retrieval.fusion``) offline with the retriever's own code: reciprocal
ranks for a grid of ``rrf_k`` and dense weights, standardized scores for a grid of dense weights
(sparse weight 1). The grid point with the best recall@10 on the training questions (those
``tune.data.is_validation`` does not hold out) is then scored once on the validation questions,
beside the defaults, so the choice never sees the questions it is judged on. It also prints
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
from rag.index.backends.local.index import Index  # noqa: E402
from rag.retrieve.hybrid import Retriever, _Candidate, open_retriever  # noqa: E402
from tune.data import is_validation  # noqa: E402

GOLD = ROOT.parent / "shared/gold/bioasq"
Found = dict[str, _Candidate]  # document -> its dense and sparse (rank, score)
Fusion = tuple[str, float, float, float]  # retrieval.fusion, rrf_k, dense weight, sparse weight


def rankings(retriever: Retriever, question: str) -> Found:
    """Each retriever's document ranks and scores for ``question`` (the search's own grouping)."""
    index = retriever.index
    assert isinstance(index, Index), "the sweep replays the local index's fusion"
    n = retriever.settings.candidates
    vector = retriever.embedder.embed_query(question)[0]
    dense = retriever._dense(index, vector, n, None)
    sparse = index.sparse.search(question, n, None)
    doc_of = index.store.doc_ids(list({r for r, _ in dense + sparse}))
    return retriever._documents(dense, sparse, doc_of)


def fused(retriever: Retriever, found: Found, fusion: Fusion, depth: int) -> list[str]:
    """The top ``depth`` documents as the retriever fuses them with the settings ``fusion``."""
    kind, k, wd, ws = fusion
    settings = retriever.settings.model_copy(
        update={"fusion": kind, "rrf_k": k, "dense_weight": wd, "sparse_weight": ws}
    )
    score = Retriever(retriever.index, retriever.embedder, settings)._fuse(found)
    return sorted(score, key=lambda d: -score[d])[:depth]


def recall(
    retriever: Retriever, runs: list[tuple[Found, set[str]]], fusion: Fusion, at: int
) -> float:
    """Mean recall@``at`` over ``runs``."""
    return mean([recall_at_k(fused(retriever, r, fusion, at), gold, at) for r, gold in runs])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", required=True, help="an index directory of ../shared/corpus")
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    args = parser.parse_args()
    settings = load_settings()
    retriever = open_retriever(args.index, settings)
    start = time.perf_counter()
    train: list[tuple[Found, set[str]]] = []
    held: list[tuple[Found, set[str]]] = []
    for q in load_bioasq(GOLD):
        run = (rankings(retriever, q.question), set(q.gold_ids))
        (held if is_validation(q.id, args.validation_fraction) else train).append(run)
    print(f"{len(train)} training and {len(held)} validation questions ranked in "
          f"{time.perf_counter() - start:.0f} s (load {os.getloadavg()[0]:.1f})")  # fmt: skip
    s = settings.retrieval
    rrf = [("rrf", k, wd, 1.0) for k, wd in itertools.product(
        (5, 10, 20, 30, 60, 100, 200), (0.6, 0.8, 1.0, 1.2, 1.5))]  # fmt: skip
    scores = [("scores", s.rrf_k, wd, 1.0) for wd in (0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 2.5)]
    rows: list[tuple[str, Fusion]] = [
        ("rrf defaults", ("rrf", 60.0, 1.0, 1.0)),
        ("rrf best on train", max(rrf, key=lambda g: recall(retriever, train, g, 10))),
        ("scores defaults", ("scores", s.rrf_k, 1.0, 1.0)),
        ("scores best on train", max(scores, key=lambda g: recall(retriever, train, g, 10))),
        ("dense only", ("rrf", 60.0, 1.0, 0.0)),
        ("BM25 only", ("rrf", 60.0, 0.0, 1.0)),
    ]
    print(
        "| fusion (kind, rrf_k, dense w, sparse w) | train recall@10 | validation recall@10 | "
        "validation recall@30 |"
    )
    print("| --- | --- | --- | --- |")
    for name, g in rows:
        print(
            f"| {name} {g} | {recall(retriever, train, g, 10):.4f} | "
            f"{recall(retriever, held, g, 10):.4f} | {recall(retriever, held, g, 30):.4f} |"
        )


if __name__ == "__main__":
    main()
