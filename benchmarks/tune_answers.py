"""Tune the answer thresholds on ../shared/gold: refusal (min_evidence) and citation support.

Refusal: the best dense cosine between a question and a retrieved passage, for every gold
question (all answerable from the shared corpus) and for off-topic questions written here. The
threshold keeps ``--keep`` of the answerable ones.

Support: BioASQ ideal-answer sentences against their own question's gold snippets (positives:
a snippet supports the sentence when any does) and against another question's snippets
(negatives). A grid over the embedding and lexical thresholds reports precision and recall.

    .venv/bin/python benchmarks/tune_answers.py --index /tmp/shared_index
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from eval.gold import load_bioasq, load_pubmedqa
from rag.citations import lexical_support, split_sentences
from rag.embeddings import load_embedder
from rag.search import open_retriever
from rag.settings import AnswerSettings, load_settings

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


def refusal(index: Path, keep: float, limit: int) -> None:
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


def support(limit: int, seed: int) -> None:
    """Precision/recall of the support check over a grid of thresholds."""
    embedder = load_embedder(load_settings().embedding)
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "gold" / "bioasq"
    questions = [q for q in load_bioasq(shared) if q.ideal_answer and q.snippets][:limit]
    rng = random.Random(seed)
    rows = []  # (lexical, embedding, label)
    start = time.perf_counter()
    for i, q in enumerate(questions):
        other = questions[(i + rng.randrange(1, len(questions))) % len(questions)]
        claims = [q.ideal_answer[a:b] for a, b in split_sentences(q.ideal_answer)][:3]
        for snippets, label in ((q.snippets, 1), (other.snippets, 0)):
            sents = [s[a:b] for s in snippets[:10] for a, b in split_sentences(s)]
            if not claims or not sents:
                continue
            cv = embedder.embed_documents(claims)
            sv = embedder.embed_documents(sents)
            joined = " ".join(snippets[:10])
            for claim, v in zip(claims, cv, strict=True):
                rows.append((lexical_support(claim, joined), float((sv @ v).max()), label))
    data = np.array(rows)
    print(f"support: {int(data[:, 2].sum())} supported and {int((1 - data[:, 2]).sum())} "
          f"unsupported sentence pairs ({time.perf_counter() - start:.0f} s)")  # fmt: skip
    best = []
    for te in np.arange(0.4, 0.91, 0.05):
        for tl in np.arange(0.5, 1.01, 0.05):
            pred = (data[:, 1] >= te) | (data[:, 0] >= tl)
            tp = float((pred & (data[:, 2] == 1)).sum())
            precision = tp / max(pred.sum(), 1)
            recall = tp / max((data[:, 2] == 1).sum(), 1)
            f1 = 2 * precision * recall / max(precision + recall, 1e-9)
            best.append((f1, precision, recall, te, tl))
    defaults = AnswerSettings()
    for f1, p, r, te, tl in best:
        if (
            abs(te - defaults.support_embedding) < 1e-6
            and abs(tl - defaults.support_lexical) < 1e-6
        ):
            print(f"  settings (embedding {te:.2f} or lexical {tl:.2f}): precision {p:.3f} "
                  f"recall {r:.3f} F1 {f1:.3f}")  # fmt: skip
    best.sort(reverse=True)
    for f1, p, r, te, tl in best[:5]:
        print(f"  embedding {te:.2f} or lexical {tl:.2f}: precision {p:.3f} recall {r:.3f} "
              f"F1 {f1:.3f}")  # fmt: skip
    strict = [b for b in best if b[1] >= 0.9]
    if strict:
        f1, p, r, te, tl = max(strict, key=lambda b: b[2])
        print(f"  best recall at precision >= 0.90: embedding {te:.2f} or lexical {tl:.2f}: "
              f"precision {p:.3f} recall {r:.3f}")  # fmt: skip


def main() -> None:
    """Run both tunings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--keep", type=float, default=0.98, help="Share of gold to answer.")
    parser.add_argument("--limit", type=int, default=2000, help="Questions per gold set.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--support-only", action="store_true")
    args = parser.parse_args()
    if not args.support_only:
        refusal(args.index, args.keep, args.limit)
    support(args.limit, args.seed)


if __name__ == "__main__":
    main()
