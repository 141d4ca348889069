"""Tuned retrieval on BioASQ questions no model was trained on: each stage's recall@10 and cost.

    .venv/bin/python benchmarks/tune_retrieval.py --index /tmp/shared_index --out /tmp/tuned
    .venv/bin/python benchmarks/tune_retrieval.py --index /tmp/shared_index --out /tmp/tuned \\
        --embedder /tmp/tuned/embedder --reranker /tmp/tuned/reranker --limit 100

Without --embedder/--reranker it first trains them (``rag tune embedder|reranker`` on the shared
BioASQ 7B-10B sets and PubMedQA pqal_dev, --max-minutes each) and prints the time. It then scores
the BioASQ questions of the validation split (whole questions held out by tune.data.is_validation,
never trained on): BM25, dense, the fused hybrid, and the reranked hybrid over the given index;
with --tuned-index (an index built with ``embedding.model = EMBEDDER``) dense and hybrid again with
the tuned embedder, and reranked on top. The load average is printed beside the timings.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:  # the models load after the arguments parse, so that --help stays quick
    from eval.gold import GoldQuestion
    from rag.retrieve.hybrid import Mode

SHARED = ROOT.parent / "shared/gold"


def train(kind: str, out: Path, index: Path, minutes: float, fraction: float) -> Path:
    """Run ``rag tune KIND`` on the shared sets; the model folder."""
    model = out / kind
    if not model.exists():
        command = [sys.executable, "-m", "cli.main", "tune", kind, "--gold", str(SHARED / "bioasq"),
                   "--gold", str(SHARED / "pubmedqa/pqal_dev.json"), "--index", str(index),
                   "--out", str(model), "--max-minutes", str(minutes),
                   "--validation-fraction", str(fraction)]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT)
        print(f"rag tune {kind}: {time.perf_counter() - start:.0f} s, load {os.getloadavg()}")
    return model


def score(
    index: Path, questions: list[GoldQuestion], mode: Mode, sets: dict[str, dict[str, object]]
) -> tuple[float, float, float]:
    """recall@10, MRR@10 and ms per question of one retriever configuration."""
    from base.settings import load_settings
    from eval.metrics import mean, mrr_at_k, recall_at_k
    from rag.retrieve.hybrid import open_retriever

    retriever = open_retriever(index, load_settings(sets))
    recalls, mrrs = [], []
    start = time.perf_counter()
    for q in questions:
        ranked = [h.doc_id for h in retriever.search(q.question, k=10, mode=mode)]
        recalls.append(recall_at_k(ranked, set(q.gold_ids), 10))
        mrrs.append(mrr_at_k(ranked, set(q.gold_ids), 10))
    ms = (time.perf_counter() - start) / max(len(questions), 1) * 1000
    retriever.index.close()
    return mean(recalls), mean(mrrs), ms


def ceiling(index: Path, questions: list[GoldQuestion]) -> float:
    """recall@10 of a perfect ranker: each question's gold documents that ``index`` holds, first.

    Two things keep it below 1: questions with more than 10 gold documents, and gold documents
    the corpus lacks (BioASQ lists papers without a snippet, and ../shared/corpus/bioasq holds
    only papers with snippets).
    """
    from base.settings import load_settings
    from eval.metrics import mean, recall_at_k
    from rag.index.backends.local.index import Index

    found = Index.open(index, load_settings())
    held = [[g for g in q.gold_ids if found.store.document(g) is not None] for q in questions]
    found.close()
    return mean([recall_at_k(h, set(q.gold_ids), 10) for h, q in zip(held, questions, strict=True)])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for trained models")
    parser.add_argument("--embedder", type=Path, help="a tuned embedder (else trained)")
    parser.add_argument("--reranker", type=Path, help="a tuned reranker (else trained)")
    parser.add_argument("--tuned-index", type=Path, help="an index built with the embedder")
    parser.add_argument("--max-minutes", type=float, default=40.0)
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--limit", type=int, default=0, help="first N validation questions")
    parser.add_argument("--rerank-fusion", type=float, nargs="+", default=[0.0])
    parser.add_argument(
        "--tuned-dense-weight", type=float, default=2.0,
        help="retrieval.dense_weight for the tuned embedder's rows (chosen on training questions)",
    )  # fmt: skip
    parser.add_argument("--set", dest="sets", action="append", default=[])
    args = parser.parse_args()
    from benchmarks.retrieval_quality import overrides
    from eval.gold import load_bioasq
    from tune.data import is_validation

    embedder = args.embedder or train(
        "embedder", args.out, args.index, args.max_minutes, args.validation_fraction
    )
    reranker = args.reranker or train(
        "reranker", args.out, args.index, args.max_minutes, args.validation_fraction
    )
    held = [
        q for q in load_bioasq(SHARED / "bioasq") if is_validation(q.id, args.validation_fraction)
    ]
    questions = held[: args.limit or None]
    base = overrides(args.sets)
    print(f"{len(questions)} BioASQ validation questions; settings {args.sets or 'default'}")
    print(f"embedder {embedder}; reranker {reranker}; load {os.getloadavg()}")
    print(f"ceiling (every gold document the index holds, in the top 10): "
          f"recall@10 {ceiling(args.index, questions):.3f}")  # fmt: skip
    print("| stage | recall@10 | MRR@10 | ms/question |")
    print("| --- | --- | --- | --- |")
    runs: list[tuple[str, Path, Mode, dict[str, dict[str, object]]]] = [
        ("BM25", args.index, "sparse", base),
        ("dense (MiniLM)", args.index, "dense", base),
        ("hybrid (fused)", args.index, "hybrid", base),
    ]
    for fusion in args.rerank_fusion:
        rerank = {"reranker": str(reranker), "rerank_fusion": fusion}
        runs.append((f"hybrid + reranker (fusion {fusion})", args.index, "hybrid",
                     {**base, "retrieval": {**base.get("retrieval", {}), **rerank}}))  # fmt: skip
    if args.tuned_index:
        weighted: dict[str, object] = {**base.get("retrieval", {}),
                                       "dense_weight": args.tuned_dense_weight}  # fmt: skip
        tuned: dict[str, dict[str, object]] = {
            **base, "embedding": {"model": str(embedder)}, "retrieval": weighted
        }  # fmt: skip
        runs += [
            ("dense (tuned)", args.tuned_index, "dense", tuned),
            (f"hybrid, tuned embedder (dense weight {args.tuned_dense_weight})",
             args.tuned_index, "hybrid", tuned),
        ]  # fmt: skip
        for fusion in args.rerank_fusion:
            retrieval = {**weighted, "reranker": str(reranker), "rerank_fusion": fusion}
            name = f"hybrid, tuned embedder + reranker (fusion {fusion})"
            runs.append((name, args.tuned_index, "hybrid", {**tuned, "retrieval": retrieval}))
    for name, index, mode, sets in runs:
        recall, mrr, ms = score(index, questions, mode, sets)
        print(f"| {name} | {recall:.3f} | {mrr:.3f} | {ms:.0f} |", flush=True)
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
