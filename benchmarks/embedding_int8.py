"""int8 passages (``embedding.ingest_precision = "int8"``) against the dtype's, on BioASQ.

    .venv/bin/python benchmarks/embedding_int8.py [--questions 500] [--distractors 3000]

Builds two small indexes of BioASQ gold snippets (``corpus/bioasq/snippets_by_pmid.jsonl``: the
gold documents of the first ``--questions`` questions of the 10B golden files plus
``--distractors`` other PMIDs) with litrag's own ingest, one with ``ingest_precision = "same"``
(bf16 here) and one with ``"int8"`` (the machine's int8 copy of the embedder; made by this run
on its first passages if there is none yet), and reports dense and hybrid recall@10 for both
(questions are embedded in bf16 either way, as in use) and the documents/s of the embedding step
on the same snippets (alternating rounds). int8 is worth adopting only if recall@10 drops by
< 0.005.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from base.settings import Settings  # noqa: E402
from eval.gold import GoldQuestion, load_bioasq  # noqa: E402
from eval.metrics import mean, recall_at_k  # noqa: E402
from rag.index.embed.embedder import load_embedder  # noqa: E402
from rag.index.ingest.pipeline import ingest  # noqa: E402
from rag.retrieve.hybrid import open_retriever  # noqa: E402

SHARED = ROOT.parent / "shared"


def subset(n_questions: int, distractors: int, folder: Path) -> tuple[list[GoldQuestion], Path]:
    """The first questions of the 10B files and a JSONL of their snippets plus distractors."""
    files = sorted((SHARED / "gold/bioasq").glob("10B*_golden.json"))
    questions = [q for f in files for q in load_bioasq(f)][:n_questions]
    gold = {g for q in questions for g in q.gold_ids}
    lines = (SHARED / "corpus/bioasq/snippets_by_pmid.jsonl").read_text().splitlines()
    keep, others = [], 0
    for line in lines:
        if f"pmid:{json.loads(line)['_id']}" in gold:
            keep.append(line)
        elif others < distractors:
            keep.append(line)
            others += 1
    path = folder / "snippets.jsonl"
    path.write_text("\n".join(keep) + "\n")
    return questions, path


def recall(index: Path, settings: Settings, questions: list[GoldQuestion], mode: str) -> float:
    """Mean recall@10 of ``mode`` retrieval over ``questions``."""
    retriever = open_retriever(index, settings)
    found = [
        recall_at_k([h.doc_id for h in retriever.search(q.question, k=10, mode=mode)],  # type: ignore[arg-type]
                    set(q.gold_ids), 10)
        for q in questions
    ]  # fmt: skip
    retriever.index.close()
    return mean(found)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--distractors", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sides = {name: Settings(embedding={"ingest_precision": name}) for name in ("same", "int8")}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        questions, snippets = subset(args.questions, args.distractors, folder)
        texts = [json.loads(line)["text"] for line in snippets.read_text().splitlines()]
        print(f"{len(questions)} questions, {len(texts)} snippet documents")
        for name, settings in sides.items():  # the int8 copy is made here if there is none
            ingest([snippets], folder / name, settings)
            embedder = load_embedder(settings.embedding)
            print(f"{name}: passages embedded in {embedder.index_precision}", flush=True)
        speeds: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, settings in sides.items():
                embedder = load_embedder(settings.embedding)
                start = time.perf_counter()
                embedder.embed_for_index(texts)
                speeds[name].append(len(texts) / (time.perf_counter() - start))
        for name, settings in sides.items():
            dense = recall(folder / name, settings, questions, "dense")
            hybrid = recall(folder / name, settings, questions, "hybrid")
            rounds = [round(s, 1) for s in speeds[name]]
            print(f"{name}: embedding {statistics.median(speeds[name]):.1f} docs/s (rounds "
                  f"{rounds}); recall@10 dense {dense:.4f}, hybrid {hybrid:.4f}; load "
                  f"{os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
