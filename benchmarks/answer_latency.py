"""Answer latency with the default LLM: first token, a 150-token answer end to end, check cost.

    .venv/bin/python benchmarks/answer_latency.py --index /tmp/shared_index [--dtype float32]

The model is loaded (and warmed with one answer) before timing. ``max_new_tokens`` is 150 and
the answers are generated to that length or to the model's end of turn.
"""

from __future__ import annotations

import argparse
import statistics
import time

from base.settings import Settings
from rag.answer.engines import load_backend
from rag.answer.pipeline import Pipeline

QUESTIONS = [
    "Why are patients with MDM2 amplification at risk during immune checkpoint inhibitor therapy?",
    "What does the tumor microenvironment consist of?",
    "Is MDM2 amplification associated with hyperprogressive disease?",
    "What is the role of TP53 in cancer?",
    "Does tailored telephone counseling increase mammography use?",
    "Which drugs inhibit MDM2?",
]


def main() -> None:
    """Time every question once after a warm-up; print per-question rows and medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", required=True, help="a directory or a Milvus URI")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--tokens", type=int, default=150)
    args = parser.parse_args()
    generation = {"dtype": args.dtype, "max_new_tokens": args.tokens}
    settings = Settings(generation=generation)  # type: ignore[arg-type]
    start = time.perf_counter()
    pipeline = Pipeline.open(args.index, settings)
    backend = load_backend(settings.generation)
    print(f"load: index + embedder + {backend.name} in {time.perf_counter() - start:.1f} s")
    pipeline.ask(QUESTIONS[0])  # warm-up
    rows = []
    for q in QUESTIONS:
        a = pipeline.ask(q)
        t = a.timings
        rows.append((t.first_token_ms or 0, t.total_ms, t.tokens, t.tokens_per_s or 0, t.check_ms))
        print(f"first token {t.first_token_ms or 0:6.0f} ms  total {t.total_ms:6.0f} ms  "
              f"{t.tokens:3d} tokens  {t.tokens_per_s or 0:5.1f} tok/s  check {t.check_ms:4.0f} ms"
              f"  retrieve {t.retrieve_ms:4.0f} ms  {q[:50]}")  # fmt: skip
    full = [f"{r[1] / 1000:.2f} s" for r in rows if r[2] >= args.tokens]
    print(f"answers of {args.tokens} tokens, end to end: {', '.join(full) or 'none'}")
    med = [statistics.median(c) for c in zip(*rows, strict=True)]
    print(f"median: first token {med[0]:.0f} ms, total {med[1]:.0f} ms for {med[2]:.0f} tokens "
          f"({med[3]:.1f} tok/s), support check {med[4]:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
