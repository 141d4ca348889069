"""Tune the refusal threshold (answer.min_evidence) on ../shared/gold.

Refusal: the best dense cosine between a question and a retrieved passage, for every gold
question (all answerable from the shared corpus) and for off-topic questions written here. The
threshold keeps ``--keep`` of the answerable ones.

The citation verifier's weights and threshold are fitted by benchmarks/fit_verifier.py.

    .venv/bin/python benchmarks/tune_answers.py --index /tmp/shared_index
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from base.settings import load_settings
from eval.gold import load_bioasq, load_pubmedqa
from rag.retrieve.hybrid import open_retriever

OFF_TOPIC = [
    "Who won the 2018 FIFA World Cup final?",
    "What is the capital of Australia?",
    "How do I bake sourdough bread at home?",
    "Which team won the NBA championship in 2016?",
    "What is the best programming language for web development?",
    "How many moons does Jupiter have?",
    "Who wrote the novel Pride and Prejudice?",
    "What is the exchange rate between the euro and the dollar?",
    "How do I change a flat tire on a bicycle?",
    "When was the Eiffel Tower built?",
    "What is the plot of the movie Inception?",
    "Which country has the largest population in the world?",
    "How does a blockchain reach consensus?",
    "What are the rules of chess castling?",
    "Who painted the Mona Lisa?",
    "What is the tallest mountain in Africa?",
    "How do I install Python on Windows?",
    "What time zone is Tokyo in?",
    "Who is the lead singer of Coldplay?",
    "What is the price of gold today?",
    "How long does it take to fly from London to New York?",
    "What is the recipe for a margherita pizza?",
    "Which planet is closest to the sun?",
    "Who won the Tour de France in 2019?",
    "How do solar panels generate electricity?",
    "What language is spoken in Brazil?",
    "How do I train a puppy to sit?",
    "What is the speed limit on German autobahns?",
    "Who composed the Four Seasons?",
    "What is the GDP of Japan?",
]


def refusal(index: str, keep: float, limit: int) -> None:
    """Best dense score per question; the threshold that keeps ``keep`` of the gold questions."""
    settings = load_settings()
    retriever = open_retriever(index, settings)
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "gold"
    gold = [q.question for q in load_bioasq(shared / "bioasq")][:limit]
    gold += [q.question for q in load_pubmedqa(shared / "pubmedqa" / "pqal_dev.json")][:limit]

    def best(question: str) -> float:
        hits = retriever.search(question, 5, mode="dense")
        return max((h.dense_score or -1.0) for h in hits) if hits else -1.0

    start = time.perf_counter()
    answerable = np.array([best(q) for q in gold])
    off = np.array([best(q) for q in OFF_TOPIC])
    threshold = float(np.quantile(answerable, 1 - keep))
    print(f"refusal: {len(gold)} gold and {len(off)} off-topic questions "
          f"({time.perf_counter() - start:.0f} s)")  # fmt: skip
    print(f"  gold best-passage cosine: p1 {np.quantile(answerable, 0.01):.3f} "
          f"p2 {np.quantile(answerable, 0.02):.3f} p5 {np.quantile(answerable, 0.05):.3f} "
          f"median {np.median(answerable):.3f}")  # fmt: skip
    print(f"  off-topic: max {off.max():.3f} median {np.median(off):.3f}")
    for t in sorted({round(threshold, 2), 0.3, 0.35, 0.4, 0.45}):
        print(f"  min_evidence {t:.2f}: answers {np.mean(answerable >= t):.3f} of gold, "
              f"refuses {np.mean(off < t):.3f} of off-topic")  # fmt: skip


def main() -> None:
    """Tune the refusal threshold."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", required=True, help="a directory or a Milvus URI")
    parser.add_argument("--keep", type=float, default=0.98, help="Share of gold to answer.")
    parser.add_argument("--limit", type=int, default=2000, help="Questions per gold set.")
    args = parser.parse_args()
    refusal(args.index, args.keep, args.limit)


if __name__ == "__main__":
    main()
