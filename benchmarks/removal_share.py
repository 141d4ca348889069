"""How many generated sentences the answer policy removes, each kept for a hand check.

Asks the pipeline (generate mode, the configured LLM) the first ``--limit`` PubMedQA dev questions
over an index of ../shared/corpus and writes one JSON line per question with the kept sentences
(and their citations' evidence) and the removed ones, then prints the share removed.

    .venv/bin/python benchmarks/removal_share.py --index /tmp/shared_index --out /tmp/removal.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from base.settings import load_settings
from eval.gold import load_pubmedqa
from rag.answer.pipeline import Pipeline

GOLD = Path(__file__).resolve().parents[1].parent / "shared/gold/pubmedqa/pqal_dev.json"


def main() -> None:
    """Ask, record, count."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", required=True, help="a directory or a Milvus URI")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    pipeline = Pipeline.open(args.index, load_settings())
    kept = removed = 0
    checks: list[float] = []
    with args.out.open("w", encoding="utf-8") as out:
        for q in list(load_pubmedqa(GOLD))[: args.limit]:
            start = time.perf_counter()
            answer = pipeline.ask(q.question, mode="generate")
            seconds = time.perf_counter() - start
            checks.append(answer.timings.check_ms)
            evidence = {c.n: c.evidence for c in answer.citations}
            row = {
                "id": q.id, "question": q.question, "mode": answer.mode, "seconds": seconds,
                "kept": [{**s.to_json(), "evidence": [evidence.get(n) for n in s.citations]}
                         for s in answer.sentences if answer.mode == "generate"],
                "removed": [r.to_json() for r in answer.removed],
                "sources": {s.n: s.passage for s in answer.sources},
            }  # fmt: skip
            kept += len(row["kept"])
            removed += len(answer.removed)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
    total = kept + removed
    checks.sort()
    print(f"{args.limit} questions: {total} generated sentences, {removed} removed "
          f"({removed / max(total, 1):.1%}), {kept} kept; verification p50 "
          f"{checks[len(checks) // 2]:.0f} ms, p95 {checks[int(len(checks) * 0.95)]:.0f} ms "
          "per answer")  # fmt: skip


if __name__ == "__main__":
    main()
