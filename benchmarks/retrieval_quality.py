"""Retrieval quality on the BioASQ gold questions: BM25 alone, dense alone, hybrid.

    .venv/bin/rag ingest ../shared/corpus --index /tmp/shared_index      # once
    .venv/bin/python benchmarks/retrieval_quality.py --index /tmp/shared_index
    .venv/bin/python benchmarks/retrieval_quality.py --index /tmp/shared_index \\
        --set retrieval.rrf_k=20 --set retrieval.sparse_weight=1.2       # try a setting

Documents are ranked once per question (one passage per document); recall@10 counts every gold
document of the question, including the few that have no text in the shared corpus.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from base.settings import load_settings  # noqa: E402
from eval.gold import load_bioasq  # noqa: E402
from eval.metrics import hit_at_k, mean, mrr_at_k, ndcg_at_k, recall_at_k  # noqa: E402
from rag.retrieve.hybrid import open_retriever  # noqa: E402


def overrides(pairs: list[str]) -> dict[str, dict[str, object]]:
    """``section.field=value`` pairs as a settings dict (values parsed as numbers when they are)."""
    tree: dict[str, dict[str, object]] = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        section, name = key.split(".", 1)
        parsed: object = value
        for cast in (int, float):
            try:
                parsed = cast(value)
                break
            except ValueError:
                continue
        tree.setdefault(section, {})[name] = parsed
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--index", required=True, help="a directory or a Milvus URI")
    parser.add_argument("--gold", type=Path, default=ROOT.parent / "shared/gold/bioasq")
    parser.add_argument("--limit", type=int, default=0, help="first N questions only")
    parser.add_argument("--modes", nargs="+", default=["sparse", "dense", "hybrid"])
    parser.add_argument("--set", dest="sets", action="append", default=[])
    args = parser.parse_args()
    settings = load_settings(overrides(args.sets))
    questions = list(load_bioasq(args.gold))[: args.limit or None]
    retriever = open_retriever(args.index, settings)
    print(f"{len(questions)} questions from {args.gold}; settings {args.sets or 'default'}")
    print("| retriever | recall@10 | MRR@10 | nDCG@10 | hit@10 | ms/question |")
    print("| --- | --- | --- | --- | --- | --- |")
    for mode in args.modes:
        rows: list[tuple[float, float, float, float]] = []
        start = time.perf_counter()
        for q in questions:
            ranked = [h.doc_id for h in retriever.search(q.question, k=10, mode=mode)]
            gold = set(q.gold_ids)
            rows.append((recall_at_k(ranked, gold, 10), mrr_at_k(ranked, gold, 10),
                         ndcg_at_k(ranked, gold, 10), hit_at_k(ranked, gold, 10)))  # fmt: skip
        ms = (time.perf_counter() - start) / len(questions) * 1000
        cols = " | ".join(f"{mean([r[i] for r in rows]):.3f}" for i in range(4))
        print(f"| {mode} | {cols} | {ms:.1f} |", flush=True)


if __name__ == "__main__":
    main()
